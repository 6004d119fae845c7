"""Spanish end to end: a volunteer who writes in Spanish has their whole conversation in Spanish,
through the signed webhook, the outbox, the real worker and the Twilio API double; the language
is kept on the person and the Spanish prompts of the starter library are used."""

from __future__ import annotations

from sqlalchemy import select

from gateway.community.prompts import default_prompts
from gateway.extensions import db
from gateway.models import ConsentEvent, ConversationReport, Friend, Person, Prompt, PromptUse
from tests.support import Phone


def volunteer() -> Person:
    person = db.session.scalars(select(Person)).one()
    db.session.refresh(person)
    return person


def test_a_whole_conversation_in_spanish(phone: Phone) -> None:
    terms = phone.reply_to("Hola, quiero unirme")
    assert terms.startswith("Eastside Neighbors: planea conversaciones reales con gente que conoces.")
    for required in ("Responde SÍ", "Unos 3 mensajes/semana", "Pueden aplicar tarifas", "AYUDA", "ALTO"):
        assert required in terms
    assert volunteer().language == "es"

    assert phone.reply_to("sí") == "¡Te damos la bienvenida! ¿Cuál es tu nombre?"
    assert db.session.scalars(select(ConsentEvent)).one().kind == "opt_in"
    assert phone.reply_to("Ana").startswith("Gracias, Ana. ¿Con quién de tu vida quieres hablar?")
    added = phone.reply_to("mi abuela Rosa")
    assert added.startswith("Agregué a Rosa (familia). ¿Qué le importa a Rosa?")

    idea = phone.reply_to("la salud y su iglesia")
    assert idea.startswith("Idea para Rosa: pregúntale a Rosa cómo le va a la familia")
    # Rosa is family and cares about healthcare: the library's most specific Spanish prompt wins.
    used = db.session.scalars(select(Prompt).join(PromptUse)).one()
    assert (used.key, used.language) == ("healthcare-family-es", "es")

    thanks = phone.reply_to("hablé con Rosa el domingo, le interesa venir al foro")
    assert thanks.startswith("¡Gracias! Anoté: a Rosa le interesa.")
    assert db.session.scalars(select(ConversationReport)).one().outcome == "open"
    rosa = db.session.scalars(select(Friend)).one()
    assert rosa.stage == "open"
    assert phone.reply_to("AMIGOS").startswith("Tu gente: Rosa (familia, le interesa).")
    assert "¿Preguntas? Escribe a organizers@eastside.example.org" in phone.reply_to("AYUDA")

    person = volunteer()
    assert (person.name, person.language) == ("Ana", "es")

    assert phone.reply_to("ENGLISH") == "Got it! I'll text you in English. (Para español, responde ESPAÑOL.)"
    assert volunteer().language == "en"
    assert phone.reply_to("FRIENDS").startswith("Your people: Rosa (family, open).")
    assert phone.reply_to("ESPAÑOL") == "¡Listo! Te escribiré en español. (For English, reply ENGLISH.)"
    assert volunteer().language == "es"

    assert phone.reply_to("ALTO").startswith("Eastside Neighbors: Te diste de baja")
    kinds = [e.kind for e in db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]
    assert kinds == ["opt_in", "opt_out"]
    assert phone.send("hola") == []  # silence after the one confirmation


def test_every_starter_prompt_has_a_spanish_twin_with_the_same_targeting() -> None:
    prompts = default_prompts()
    english = {p["key"]: p for p in prompts if p.get("language", "en") == "en"}
    spanish = {p["key"].removesuffix("-es"): p for p in prompts if p.get("language") == "es"}
    assert spanish.keys() == english.keys()
    for key, twin in spanish.items():
        assert twin["key"] == f"{key}-es" and "{friend}" in twin["body"]
        assert twin["body"][0].islower()  # it follows "Idea para Rosa: "
        for targeting in ("stages", "interests", "relationships"):
            assert twin.get(targeting) == english[key].get(targeting)
