"""Coaching for hard conversations: TIPS (CONSEJOS in Spanish) sends one short, practical tip at
a time from the organization's library ("Listen first ...", "The uncle who tunes politics out
..."), in the volunteer's language, with how to get another.

Each TIPS sends the tip the volunteer has had fewest times, in the library's order: every tip
once, then, when they have had them all, from the first again, saying so kindly. A pending
question (a friend's interests, a numbered choice) stays open, as after HELP: a tip answers
nothing. The gateway records which tip went out (MarkTipSent). Right after a tip, "more",
"another" or "otro" asks for the next one (JUST_SENT marks the state until the next text).
"""

from __future__ import annotations

from flows import segments
from flows.events import Context, MarkTipSent, Outcome, Reply, State, TipView
from flows.messages import say
from flows.segments import gsm_friendly

MAX_SEGMENTS = 2  # what one tip may cost; the library refuses longer ones
# Set in the state when the last text Kindred sent was a tip, for the volunteer's next text only.
JUST_SENT = "tip_just_sent"


def next_tip(state: State, ctx: Context) -> Outcome:
    """The next coaching tip for the volunteer, in their language (see the module docstring);
    with no tip in their language, what else they can do."""
    mine = [tip for tip in ctx.tips if tip.language == ctx.language]
    if not mine:
        return Outcome(state, (Reply(say(ctx.language, "tips.none")),))
    tip = mine[0]
    return Outcome(
        State(state.step, {**state.data, JUST_SENT: True}),
        (Reply(text(tip, ctx.language, _starting_over(tip, mine))),),
        (MarkTipSent(tip.id),),
    )


def _starting_over(tip: TipView, tips: list[TipView]) -> bool:
    """Whether `tip` starts another round: the volunteer has had every tip, each as often."""
    return tip.times_sent > 0 and all(other.times_sent == tip.times_sent for other in tips)


def text(tip: TipView, language: str, starting_over: bool = False) -> str:
    """The tip as the volunteer reads it: after a kind word when the round starts over, and
    with how to get another, which is left out first where the text would cost more than
    MAX_SEGMENTS."""
    body = gsm_friendly(tip.body.strip())
    lead = say(language, "tips.start_over") if starting_over else ""
    more = say(language, "tips.more")
    candidates = [f"{lead} {body} {more}", f"{lead} {body}", f"{body} {more}"]
    fitting = (c.strip() for c in candidates if segments.count(c.strip()).count <= MAX_SEGMENTS)
    return next(fitting, body)
