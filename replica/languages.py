"""The replica's language versions: the same item at ``/ru/<path>``, ``/fr/<path>``, ``/de/<path>``.

osce.org publishes some releases in several of the OSCE's working languages, each at the
English address under a language prefix (the issue's ``/ru/...``, ``/fr/...``, ``/de/...``
addresses of the same node). SITE.md's captures show none of these pages, so their markup
follows how Drupal multilingual sites do it (osce.org runs Drupal): ``<html lang="ru">``,
``<link rel="alternate" hreflang="..">`` for every version in the head, a language switcher
list in the header, the detail labels and the content type label in the page's language.
The menu, footer and the other furniture stay as the English pages have them (a guess:
nothing captured says how much of the interface is translated).

What a version *says* is drawn here from ``(seed, item, language, revision)`` alone: an
edit of the English item changes no translation and an edit of one translation changes no
other page. Each paragraph carries one sentence whose slots encode a number unique to
``(item, revision, paragraph)`` (the generator's bijection), in a template of the version's
own language, so no paragraph repeats anywhere on the site. The filler sentences are dense
with each language's function words, so a reader that checks the declared language against
the text agrees with ``<html lang>``.

Imports: ``replica.vocab`` and the standard library (the generator imports this module).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from replica import vocab


@dataclass(frozen=True)
class Language:
    """Everything a page in one language shows in that language."""

    code: str  # ISO 639-1
    name: str  # the language's own name, as the switcher shows it
    labels: dict[str, str]  # English detail label -> this language's label
    kinds: dict[str, str]  # record kind -> content type label
    fillers: tuple[str, ...]
    unique: tuple[str, ...]  # templates using {first} {last} {city} {number} once each
    titles: tuple[str, ...]  # templates using {topic} and {city}
    topics: tuple[str, ...]


RU = Language(
    code="ru",
    name="Русский",
    labels={
        "Date": "Дата",
        "Place": "Место",
        "Source": "Источник",
        "Fields of work": "Направления деятельности",
    },
    kinds={
        "press-release": "Пресс-релиз",
        "story": "Статья",
        "news": "Новости",
        "spot-report": "Оперативный отчет",
        "daily-report": "Ежедневный отчет",
        "statement": "Заявление",
    },
    fillers=(
        "Это и есть то, что ОБСЕ делает на местах, и работа будет продолжена.",
        "Участники отметили, что это важно для всех, кто живет в регионе.",
        "По словам организаторов, это не первый и не последний шаг в этом направлении.",
        "Как и в прошлом году, ОБСЕ оказала поддержку и в подготовке, и в проведении встречи.",
        "Это то, что объединяет и государства, и общество, и международных партнеров.",
        "В ходе встречи участники обсудили, что можно сделать для того, чтобы это работало.",
        "Проект реализуется при поддержке ОБСЕ, и его результаты уже видны на местах.",
        "Было подчеркнуто, что без доверия и диалога это не может быть достигнуто.",
        "Это уже не первый семинар, который ОБСЕ проводит в этом году по этой теме.",
        "А в следующем году, как и было сказано, работа с партнерами будет продолжена.",
    ),
    unique=(
        "Как сообщил {first} {last} из города {city}, в этом участвовали {number} человек.",
        "В городе {city} {first} {last} представил выводы, и это по итогам {number} бесед.",
        "По данным опроса, который провел {first} {last} в городе {city}, это {number} ответов.",
        "Рабочая группа, которую в городе {city} возглавил {first} {last}, и это {number} дел.",
    ),
    titles=(
        "ОБСЕ и партнеры обсудили вопросы {topic} в городе {city}",
        "В городе {city} прошел семинар ОБСЕ по вопросам {topic}",
        "ОБСЕ поддержала обучение по вопросам {topic} в городе {city}",
    ),
    topics=(
        "безопасности",
        "свободы СМИ",
        "выборов",
        "гендерного равенства",
        "борьбы с торговлей людьми",
        "охраны окружающей среды",
        "прав человека",
        "верховенства права",
    ),
)

FR = Language(
    code="fr",
    name="Français",
    labels={
        "Date": "Date",
        "Place": "Lieu",
        "Source": "Source",
        "Fields of work": "Domaines d'action",
    },
    kinds={
        "press-release": "Communiqué de presse",
        "story": "Reportage",
        "news": "Actualités",
        "spot-report": "Rapport ponctuel",
        "daily-report": "Rapport quotidien",
        "statement": "Déclaration",
    },
    fillers=(
        "Les participants ont souligné que la coopération est la clé de la sécurité dans la "
        "région.",
        "Le projet est mis en œuvre par l'OSCE avec le soutien des autorités et de la société "
        "civile.",
        "Selon les organisateurs, il s'agit d'une étape importante pour les jeunes de la région.",
        "La réunion a permis de faire le point sur les progrès et sur les défis qui restent.",
        "Les résultats de ce travail sont déjà visibles dans les communautés locales.",
        "Le dialogue et la confiance sont au cœur de la démarche de l'OSCE dans le pays.",
        "Les experts de l'OSCE ont présenté les bonnes pratiques et les leçons apprises.",
        "La formation a été organisée en coopération avec les partenaires de l'OSCE sur le "
        "terrain.",
        "Le soutien de l'OSCE dans ce domaine se poursuivra au cours de l'année prochaine.",
        "Les représentants des institutions ont pris part à la discussion et aux ateliers.",
    ),
    unique=(
        "Selon {first} {last}, venu de {city}, quelque {number} personnes ont pris part à la "
        "réunion.",
        "À {city}, {first} {last} a présenté les résultats de {number} entretiens.",
        "Le groupe de travail présidé par {first} {last} à {city} a examiné {number} dossiers.",
        "Une enquête menée par {first} {last} à {city} a recueilli {number} réponses.",
    ),
    titles=(
        "L'OSCE et ses partenaires débattent de {topic} à {city}",
        "Un séminaire de l'OSCE sur {topic} se tient à {city}",
        "L'OSCE soutient une formation sur {topic} à {city}",
    ),
    topics=(
        "la sécurité",
        "la liberté des médias",
        "les élections",
        "l'égalité des sexes",
        "la lutte contre la traite des êtres humains",
        "l'environnement",
        "les droits de l'homme",
        "l'état de droit",
    ),
)

DE = Language(
    code="de",
    name="Deutsch",
    labels={
        "Date": "Datum",
        "Place": "Ort",
        "Source": "Quelle",
        "Fields of work": "Tätigkeitsbereiche",
    },
    kinds={
        "press-release": "Pressemitteilung",
        "story": "Reportage",
        "news": "Nachrichten",
        "spot-report": "Lagebericht",
        "daily-report": "Tagesbericht",
        "statement": "Erklärung",
    },
    fillers=(
        "Die Teilnehmer betonten, dass die Zusammenarbeit mit den Partnern in der Region für die "
        "Sicherheit wichtig ist.",
        "Das Projekt wird von der OSZE in Zusammenarbeit mit den Behörden und der "
        "Zivilgesellschaft umgesetzt.",
        "Nach Angaben der Veranstalter ist dies ein wichtiger Schritt für die jungen Menschen in "
        "dem Land.",
        "Die Ergebnisse der Arbeit sind in den Gemeinden bereits sichtbar und werden weiter "
        "ausgebaut.",
        "Der Dialog und das Vertrauen stehen im Mittelpunkt der Arbeit der OSZE in dem Land.",
        "Die Experten der OSZE stellten bewährte Verfahren und die Erfahrungen aus der Region vor.",
        "Die Schulung wurde in Zusammenarbeit mit den Partnern der OSZE vor Ort organisiert.",
        "Die Unterstützung der OSZE in diesem Bereich wird auch im nächsten Jahr fortgesetzt.",
        "Die Vertreter der Institutionen nahmen an der Diskussion und an den Workshops teil.",
        "Es ist nicht das erste Mal, dass die OSZE in dem Land zu diesem Thema tätig ist.",
    ),
    unique=(
        "Nach Angaben von {first} {last} aus {city} nahmen {number} Personen an dem Treffen teil.",
        "In {city} stellte {first} {last} die Ergebnisse von {number} Gesprächen vor.",
        "Die von {first} {last} in {city} geleitete Arbeitsgruppe prüfte {number} Fälle.",
        "Eine Umfrage, die {first} {last} in {city} durchführte, ergab {number} Antworten.",
    ),
    titles=(
        "OSZE und Partner erörtern Fragen der {topic} in {city}",
        "Seminar der OSZE zur {topic} in {city}",
        "OSZE unterstützt Schulung zur {topic} in {city}",
    ),
    topics=(
        "Sicherheit",
        "Medienfreiheit",
        "Wahlbeobachtung",
        "Gleichstellung",
        "Bekämpfung des Menschenhandels",
        "Umweltpolitik",
        "Menschenrechte",
        "Rechtsstaatlichkeit",
    ),
)

#: The languages items may have besides English, in the order the switcher lists them.
LANGUAGES: dict[str, Language] = {lang.code: lang for lang in (RU, FR, DE)}
#: English as the switcher names it.
ENGLISH_NAME = "English"
#: Number of each language in seeds (keeps every language's draws apart).
LANGUAGE_NUMBERS = {code: i + 1 for i, code in enumerate(LANGUAGES)}


def language_name(code: str) -> str:
    return ENGLISH_NAME if code == "en" else LANGUAGES[code].name


def title(lang: Language, rng: random.Random) -> str:
    return rng.choice(lang.titles).format(
        topic=rng.choice(lang.topics), city=rng.choice(vocab.SLOT_CITIES)
    )


def unique_sentence(lang: Language, slots: tuple[int, int, int, int], rng: random.Random) -> str:
    """The paragraph's unique sentence in ``lang`` (``slots`` from the generator)."""
    sentence = rng.choice(lang.unique).format(
        first=vocab.FIRST_NAMES[slots[0]],
        last=vocab.SURNAMES[slots[1]],
        city=vocab.SLOT_CITIES[slots[2]],
        number=vocab.NUMBER_BASE + slots[3],
    )
    return sentence[0].upper() + sentence[1:]


__all__ = ["ENGLISH_NAME", "LANGUAGES", "LANGUAGE_NUMBERS", "Language", "language_name"]
