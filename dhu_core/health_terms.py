"""The terms of a text as the text model compares them: word stems and health concepts.

A text is folded (lower case, no accents), cut into words, and read left to right: the longest
run of words that is a term of `data/health_terms.csv` becomes that term's concepts ("COPD",
"BPCO" and "chronic obstructive pulmonary disease" all become `#copd #respiratory`), any other
word its Snowball stem, and function words of the eight languages are left out. So "electronic
prescriptions" meets "eRezept" and "ordonnance numérique", and "prescriptions" meets
"prescription". A one-word term written `=word` is that word only, not every word of its stem:
"=medication" leaves "medical" (the same stem) a word.
"""

import csv
import difflib
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

import snowballstemmer
import stop_words
from snowballstemmer.basestemmer import BaseStemmer

from dhu_core.config import DATA_DIR

TERMS_FILE = DATA_DIR / "health_terms.csv"
#: English function words left out of the text model (scikit-learn's list; see data/SOURCES.md).
FUNCTION_WORDS_FILE = DATA_DIR / "english_function_words.txt"
#: Function words of these languages are left out (the English ones come with scikit-learn).
STOP_WORD_LANGUAGES = ("german", "french", "italian", "spanish", "portuguese", "polish", "swedish")
#: Marks a concept; words never contain it, so a concept never meets a word of the same name.
CONCEPT = "#"
#: A word this long or longer that no practice uses is read as a typing error of a close one.
MIN_CORRECTED = 5
#: How alike (difflib's ratio) a misspelt word must be to the word it is taken for.
CORRECTION_CUTOFF = 0.84

#: Marks a one-word term that is that word only, not every word sharing its stem.
EXACT = "="
#: Words this short are kept whole.
SHORT_WORD = 3
#: Languages that write a compound as one word ("Schlaganfallnetzwerk", "läkemedelslista"):
#: a word of theirs that is no term is read as the terms it is made of.
COMPOUNDING_LANGUAGES = ("de", "sv")
#: A word is read as a compound from this length on, of parts this long or longer: a known
#: part of at least MIN_KNOWN_PART letters, the rest of at least MIN_PART.
MIN_COMPOUND = 8
MIN_KNOWN_PART = 5
MIN_PART = 3
#: A known part at the end of a compound is this long or longer: shorter ones end many a
#: word that is no compound of them ("trainieren" is no kind of "Nieren").
MIN_KNOWN_END = 7
#: The linking letter between the parts of a compound ("Gesundheitsamt", "sjukhusvård").
LINKING_S = "s"

_WORD = re.compile(r"[a-z0-9]+")
#: The combining accents that NFKD splits off Latin letters.
_ACCENT = re.compile("[\u0300-\u036f]")
#: Letters that Unicode does not decompose into a base letter and an accent.
_FOLD = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ı": "i"})
_UNDECOMPOSED = re.compile("[łøæœßđı]")


def fold(text: str) -> str:
    """Lower case without accents: "Übungen" -> "ubungen", "płuc" -> "pluc"."""
    text = text.lower()
    if text.isascii():
        return text
    if _UNDECOMPOSED.search(text):
        text = text.translate(_FOLD)
    return _ACCENT.sub("", unicodedata.normalize("NFKD", text))


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return _WORD.findall(fold(text))


class Lexicon:
    """Health terms in eight languages, each standing for one or more concepts."""

    def __init__(self, rows: Iterable[tuple[str, ...]]) -> None:
        """`rows`: (concepts, term) or (concepts, term, language) of each term."""
        self.concepts: dict[tuple[str, ...], tuple[str, ...]] = {}
        #: One-word terms that are that word only (`=word`), by folded word.
        self.exact: dict[str, tuple[str, ...]] = {}
        #: One-word terms of a compounding language, by folded word: the known parts of
        #: compounds.
        self.parts: dict[str, tuple[str, ...]] = {}
        self.words: list[list[str]] = []
        for concepts, term, *language in rows:
            self.words.append(words(term))
            added = tuple(f"{CONCEPT}{c.strip()}" for c in concepts.split(";") if c.strip())
            if language and language[0] in COMPOUNDING_LANGUAGES and len(self.words[-1]) == 1:
                part = self.words[-1][0]
                if len(part) >= MIN_KNOWN_PART:
                    self.parts[part] = tuple(dict.fromkeys(self.parts.get(part, ()) + added))
            if term.startswith(EXACT) and len(self.words[-1]) == 1:
                word = self.words[-1][0]
                self.exact[word] = tuple(dict.fromkeys(self.exact.get(word, ()) + added))
                continue
            key = tuple(stem(word) for word in self.words[-1])
            if key:
                known = self.concepts.get(key, ())
                self.concepts[key] = tuple(dict.fromkeys(known + added))
        #: The most words of a term starting with each stem: a run is tried no longer than that.
        self.longest: dict[str, int] = {}
        for key in self.concepts:
            self.longest[key[0]] = max(self.longest.get(key[0], 0), len(key))

    @classmethod
    @cache
    def shipped(cls) -> "Lexicon":
        """The lexicon of `data/health_terms.csv`, read once."""
        with open(TERMS_FILE, encoding="utf-8", newline="") as f:
            return cls((row["concepts"], row["term"], row["language"]) for row in csv.DictReader(f))

    def terms(self, stems: list[str], words_: list[str]) -> list[str]:
        """Concepts for the lexicon's terms, the stems of the other words but function words."""
        found: list[str] = []
        # Local names: this runs for every word of every practice when an index is built.
        longest_from, concepts_of, stop = self.longest.get, self.concepts.get, stop_word_set()
        exact = self.exact.get
        position, count = 0, len(stems)
        while position < count:
            first = stems[position]
            longest = longest_from(first)
            word = words_[position]
            if longest or word in self.exact:
                concepts = None
                for length in range(min(longest or 1, count - position), 0, -1):
                    # A longer term first; of one word, the exact word before its stem.
                    concepts = (length == 1 and exact(word)) or concepts_of(
                        tuple(stems[position : position + length])
                    )
                    if concepts:
                        found += concepts
                        position += length
                        break
                if concepts:
                    continue
            if len(word) > 1 and word not in stop:
                compound = self.parts and len(word) >= MIN_COMPOUND and self.compound(word)
                if compound:
                    found += compound
                else:
                    found.append(first)
            position += 1
        return found

    @lru_cache(maxsize=65_536)  # noqa: B019 (the shipped lexicon lives as long as the process)
    def compound(self, word: str) -> tuple[str, ...]:
        """The terms of a word that is no term but a compound with a known part: the known
        part's concepts and the other part's terms ("schlaganfallnetzwerk" -> #stroke…,
        "netzwerk"); () when it has no known part.

        A known part at the start of the word is taken first: the longest whose rest is known
        too, else the shortest ("schlaganfall|experten", not "schlaganfalle|xperten")."""
        starts = [
            cut
            for cut in range(len(word) - MIN_PART, MIN_KNOWN_PART - 1, -1)
            if word[:cut] in self.parts
        ]
        for cut in starts:
            if rest := self._known_part(word[cut:]):
                return self.parts[word[:cut]] + rest
        if starts:
            return self.parts[word[: starts[-1]]] + self._part(word[starts[-1] :])
        for cut in range(MIN_PART, len(word) - MIN_KNOWN_END + 1):
            if concepts := self.parts.get(word[cut:]):
                return self._part(word[:cut].removesuffix(LINKING_S)) + concepts
        return ()

    def _known_part(self, part: str) -> tuple[str, ...]:
        """The concepts of a part of a compound that is a term (after a linking s, or not),
        or a compound with a known part; () when it is neither."""
        for candidate in (part, part[len(LINKING_S) :] if part.startswith(LINKING_S) else ""):
            if len(candidate) < MIN_PART or candidate in stop_word_set():
                continue
            concepts = (
                self.parts.get(candidate)
                or self.exact.get(candidate)
                or self.concepts.get((stem(candidate),))
            )
            if concepts:
                return concepts
        return self.compound(part) if len(part) >= MIN_COMPOUND else ()

    def _part(self, part: str) -> tuple[str, ...]:
        """The terms of the other part of a compound: those it is known by, else its stem."""
        if known := self._known_part(part):
            return known
        return (stem(part),) if len(part) > SHORT_WORD and part not in stop_word_set() else ()


@cache
def stop_word_set() -> frozenset[str]:
    """Function words of English and the seven other languages, folded."""
    found = set(FUNCTION_WORDS_FILE.read_text(encoding="utf-8").split())
    for language in STOP_WORD_LANGUAGES:
        found.update(fold(word) for word in stop_words.get_stop_words(language))
    return frozenset(found)


#: A Snowball stemmer keeps the word it stems in itself: one per thread (pages and the
#: indexes built in the background stem at the same time).
_STEMMERS = threading.local()
_STEMS: dict[str, str] = {}


def _stemmer() -> BaseStemmer:
    found = getattr(_STEMMERS, "english", None)
    if found is None:
        found = _STEMMERS.english = snowballstemmer.stemmer("english")
    return found


def stem(word: str) -> str:
    """The English Snowball stem of a folded word (cached: a corpus repeats its words).

    Words of up to three letters are mostly abbreviations and kept whole ("AED" is no "a").
    """
    found = _STEMS.get(word)
    if found is None:
        found = _STEMS[word] = word if len(word) <= SHORT_WORD else _stemmer().stemWord(word)
    return found


def analyse(text: str) -> list[str]:
    """The terms of a text: concepts and the stems of its other words."""
    found = words(text)
    return Lexicon.shipped().terms(stems(found), found)


def stems(found: list[str]) -> list[str]:
    """The stems of words, in order."""
    known = _STEMS.get
    return [known(word) or stem(word) for word in found]


class Speller:
    """Takes a misspelt word for the known word it is closest to ("rehabilitaton")."""

    def __init__(self, known_words: Iterable[str]) -> None:
        lexicon_words = {word for term in Lexicon.shipped().words for word in term}
        self._known = set(known_words) | lexicon_words
        self._by_start: dict[str, list[str]] = {}
        for word in sorted(self._known):
            self._by_start.setdefault(word[0], []).append(word)
        self._corrections: dict[str, str] = {}

    def analyse(self, text: str) -> list[str]:
        """The terms of a text, unknown long words first taken for the closest known ones."""
        found = [self._correct(word) for word in words(text)]
        return Lexicon.shipped().terms(stems(found), found)

    def _correct(self, word: str) -> str:
        if word in self._known or len(word) < MIN_CORRECTED or word in stop_word_set():
            return word
        corrected = self._corrections.get(word)
        if corrected is None:
            close = difflib.get_close_matches(
                word, self._by_start.get(word[0], ()), n=1, cutoff=CORRECTION_CUTOFF
            )
            corrected = self._corrections[word] = close[0] if close else word
        return corrected
