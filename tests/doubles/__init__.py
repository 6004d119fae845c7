"""Local stand-ins for the servers and providers Kindred talks to in tests."""
