"""Community: the domain services (the organization, friends, codes, teams, events, prompts,
privacy, exports). They take plain arguments and act in the caller's transaction; they never
read the request or talk to the job queue."""
