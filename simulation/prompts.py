"""Prompt assembly: the system prompt of an agent and the user message of one turn, in the pack's language."""

from __future__ import annotations

from collections.abc import Sequence

from core.records import Message, TurnRecord
from simulation.content import LanguagePack, Persona


def fill_target(text: str, target_name: str) -> str:
    """Replace ``{target}`` only, so any other brace in native text is left alone."""
    return text.replace("{target}", target_name)


def system_prompt(pack: LanguagePack, persona: Persona, *, aligned: bool, individuated: bool,
                  wording: str = "base") -> str:
    """Alignment prefix first (it is a prefix), then persona, scenario, individuation, output format.

    The intro names the scenario's target resident (``{target}``), so the agents know that person is in the
    facility but not among them.
    """
    parts = [pack.alignment_prefix_for(wording)] if aligned else []
    parts.append(pack.labels.persona.format(name=persona.name, age=persona.age, role=persona.role,
                                            description=persona.description))
    parts.append(fill_target(pack.scenario.intro, pack.scenario.target_name))
    if individuated:
        parts.append(pack.individuation_instruction)
    parts.append(pack.output_format)
    return "\n\n".join(p.strip() for p in parts)


def turn_messages(pack: LanguagePack, system: str, *, agent_idx: int, turn: int, names: Sequence[str],
                  history: Sequence[Sequence[TurnRecord]], window: int) -> list[Message]:
    """Messages for one agent at one turn.

    Args:
        history: completed turns, oldest first; each is the list of the group's records of that turn.
        window: how many past turns of public talk the agent sees (its own monologues of those turns too).

    The event's ``{target}`` is the pack's target resident, never one of ``names``.
    """
    lines: list[str] = []
    for records in history[-window:]:
        lines.append(pack.labels.turn.format(turn=records[0].turn))
        lines.extend(f"{names[r.agent_idx]}: {r.talk}" for r in records)
        own = next((r for r in records if r.agent_idx == agent_idx), None)
        if own and own.monologue:
            lines.append(f"{pack.labels.your_monologue} {own.monologue}")
        lines.append("")
    event = pack.scenario.events[turn - 1]
    lines.append(f"{pack.labels.event} {fill_target(event.text, pack.scenario.target_name)}")
    return [Message("system", system), Message("user", "\n".join(lines).strip())]


def probe_messages(pack: LanguagePack, turn_messages_: Sequence[Message], reply_text: str) -> list[Message]:
    """The turn's conversation, the agent's own reply, then the private internal-state question."""
    return [*turn_messages_, Message("assistant", reply_text), Message("user", pack.probe.question)]
