"""Negation scope per language (metric v1.1): is a lexicon hit said under a negation?

A cue negates a hit when both lie in the same clause and the cue is outside the hit's own span (entries that
contain their negation, such as zh 绝不质疑 or ja 逆らいません, are stances of their own):

- pre-posed cues (en not, de nicht, ru не, zh 不/没, ar لا, hi नहीं, ko 안/못, th ไม่, ...) negate a hit that
  starts at most ``pre_window`` tokens after them;
- post-posed cues (ja ない/ません/ず, ko 않다/없다/아니다, bn না/নি, hi नहीं, de nicht, fr pas, tr değil) negate a hit
  that ends at most ``post_window`` tokens before them;
- clauses end at punctuation of every script, at a space in Thai (which writes no commas or full stops), and at
  contrastive or clause-linking words (but, sondern, но, 但, けど, 하지만, แต่, ...), so "We should not expel
  anyone, and I won't vote to expel her" negates both hits and "we have no choice but to expel her" negates
  none.

Constructions where a negation form does not negate are cancelled: ja しか…ない (only), ja ～なければならない /
～ないといけない and ko ～지 않으면 안 되다 (obligation: two negations), ja ～ないか (invitation, rhetorical
question), zh A-not-A questions (能不能, 会不会, 有没有). ko ～면 안 되다 (must not) negates the verb before
it. Turkish negates inside the verb (kov-ma-yalım); the matcher checks the suffix after the entry
(``turkish_negative``).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from scoring.morphology import Token

_SPACE = re.compile(r"\s")
_CLAUSE_END = re.compile(r"[.,;:!?…。、，；：！？،؛।॥৷\-–—()\[\]{}\n]|\.\.\.|\s-\s")


@dataclass(frozen=True)
class NegationRules:
    """One language's negation cues (normalized surfaces) and clause boundary words."""

    pre: frozenset[str] = frozenset()
    post: frozenset[str] = frozenset()
    pre_window: int = 5
    post_window: int = 3
    boundaries: frozenset[str] = frozenset()
    pre_prefixes: tuple[str, ...] = ()
    """zh: a token that starts with one of these is a pre-posed cue unless it is in ``not_cues``."""
    not_cues: frozenset[str] = frozenset()


def _f(words: str) -> frozenset[str]:
    return frozenset(words.split())


RULES: dict[str, NegationRules] = {
    "en": NegationRules(pre=_f("not no never nobody none nothing neither nor cannot without"),
                        boundaries=_f("but although though however yet whereas while")),
    "de": NegationRules(pre=_f("nicht kein keine keinen keinem keiner keines nie niemals niemand niemanden "
                               "nichts keinesfalls"), post=_f("nicht nie niemals"), post_window=3,
                        boundaries=_f("sondern jedoch obwohl während")),  # aber and doch are mostly modal
    # particles mid-clause ("Das ist aber nicht fair"); as conjunctions they follow a comma, which ends the clause
    "fr": NegationRules(pre=_f("ne n pas jamais aucun aucune ni rien non"), post=_f("pas jamais rien"),
                        post_window=2, boundaries=_f("mais pourtant cependant quoique tandis")),
    "es": NegationRules(pre=_f("no nunca jamás ni tampoco nadie nada ningún ninguna ninguno sin"),
                        boundaries=_f("pero sino aunque mientras")),
    "pt": NegationRules(pre=_f("não nunca jamais nem nenhum nenhuma ninguém nada sem"),
                        boundaries=_f("mas porém embora enquanto contudo")),
    "ru": NegationRules(pre=_f("не ни нет никогда никого ничего никому нельзя без"),
                        boundaries=_f("но однако хотя зато а")),
    "tr": NegationRules(post=_f("değil değilim değiliz değilsin değildir hayır"), post_window=2,
                        boundaries=_f("ama fakat ancak lakin oysa")),
    "id": NegationRules(pre=_f("tidak tak bukan jangan belum tiada enggak nggak gak tanpa"),
                        boundaries=_f("tapi tetapi namun walaupun meskipun sedangkan")),
    "vi": NegationRules(pre=_f("không chẳng chả chưa đừng chớ"), pre_window=6,
                        boundaries=_f("nhưng mà tuy song")),
    "ar": NegationRules(pre=_f("لا لن لم ليس ليست لسنا لست ولا فلا ولن ولم ألا الا وألا والا غير عدم بدون دون"),
                        pre_window=4,
                        boundaries=_f("لكن ولكن بينما رغم")),
    "hi": NegationRules(pre=_f("नहीं न मत ना"), post=_f("नहीं न मत ना"), pre_window=3, post_window=3,
                        boundaries=_f("लेकिन परंतु परन्तु मगर बल्कि जबकि")),
    "bn": NegationRules(pre=_f("না"), post=_f("না নি নয় নই নেই নাই নয়"), pre_window=2, post_window=3,
                        boundaries=_f("কিন্তু তবে বরং যদিও")),
    "zh": NegationRules(pre=_f("不 没 没有 别 未 勿 莫 非 无 绝不 决不 从不 从未 并不 并没有 并非 毫不 永不 "
                               "拒不 难以"), pre_window=5,
                        pre_prefixes=("不", "没", "别", "未", "勿", "莫"),
                        not_cues=_f("不过 不少 不错 不同 不仅 不但 不管 不断 不久 不安 不满 不得不 不然 不如 "
                                    "没错 别人 别的 未来 未必 莫名 不禁 不停 没关系 不好意思"),
                        boundaries=_f("但 但是 可是 然而 不过 而是 虽然 尽管")),
    "th": NegationRules(pre=_f("ไม่ อย่า มิ ไม่ได้ ไม่ควร ไม่ใช่ ไม่มี ห้าม ไม่เคย ไม่ยอม ไม่อยาก"),
                        pre_window=5, pre_prefixes=("ไม่",), not_cues=_f("ไม่ว่า"),
                        boundaries=_f("แต่ แต่ว่า ทั้งที่ ถึงแม้")),
    "ja": NegationRules(post=_f("ない 無い ず ぬ"), post_window=8,
                        boundaries=_f("が けど けれど けれども のに ので から し しかし でも")),
    "ko": NegationRules(pre=_f("안 못"), post=_f("않 못하 없 말 아니"), pre_window=2, post_window=4,
                        boundaries=_f("하지만 그러나 그런데 지만 는데 은데 ㄴ데 만")),
}

_JA_LINKS = ("助詞.接続助詞", "接続詞")
"""ja boundary words end a clause only as conjunctive particles or conjunctions (が is mostly the subject case)."""
_JA_OBLIGATION = _f("いける 行ける 行く なる 成る 駄目 だめ ダメ")


@dataclass(frozen=True)
class Cues:
    """Negation cues of one text: token indices and the clause of every token."""

    pre: tuple[int, ...]
    post: tuple[int, ...]
    clause: tuple[int, ...]


NO_CUES = Cues((), (), ())


def _is_cue(token: Token, words: frozenset[str], rules: NegationRules, language: str) -> bool:
    if language == "ja":
        return token.key in words and token.tag.split(".")[0] in ("助動詞", "形容詞")
    if language == "ko":
        return token.key in words and (token.tag.startswith(("VX", "VA", "VCN")) or (token.tag == "MAG" and
                                                                                    token.key in ("안", "못")))
    surface = token.surface
    if surface in rules.not_cues:
        return False
    return surface in words or (bool(rules.pre_prefixes) and words is rules.pre and
                                surface.startswith(rules.pre_prefixes)) or (
        language == "en" and words is rules.pre and surface.endswith(("n't", "n’t")))


def _ja_cancelled(tokens: Sequence[Token], index: int) -> bool:
    """しか…ない (only), ないか (invitation or rhetorical question), and the first negation of an obligation."""
    before = [t.surface for t in tokens[max(0, index - 4):index]]
    if "しか" in before:
        return True
    after = tokens[index + 1:index + 5]
    following = [t.key for t in after if t.key not in ("だ", "です", "でしょう", "の", "ん")]
    if following[:1] == ["か"]:
        return True
    return any(t.key in _JA_OBLIGATION for t in after[:4])


def _ja_second_of_obligation(tokens: Sequence[Token], index: int) -> bool:
    """The いけない of ～なければいけない: a negation right after いける/なる/駄目 that follows another one."""
    previous = tokens[max(0, index - 2):index]
    if not any(t.key in _JA_OBLIGATION for t in previous):
        return False
    return any(t.key in ("ない", "無い", "ず", "ぬ") for t in tokens[max(0, index - 6):index - 1])


def _ko_obligation(tokens: Sequence[Token], index: int) -> bool:
    """않/없 + 으면 + 안 + 되다 (must): both negations cancel."""
    window = tokens[index + 1:index + 5]
    keys = [t.key for t in window]
    if "안" in keys and "되" in keys[keys.index("안"):]:
        return True
    previous = [t.key for t in tokens[max(0, index - 4):index]]
    return tokens[index].key == "안" and any(k in ("않", "없") for k in previous) and \
        any(t.key == "되" for t in tokens[index + 1:index + 3])


def _zh_a_not_a(tokens: Sequence[Token], index: int) -> bool:
    """zh A-not-A questions (能不能, 会不会, 是不是, 有没有): the 不/没 asks, it does not negate."""
    surface = tokens[index].surface
    if index == 0 or surface[0] not in "不没":
        return False
    previous = tokens[index - 1].surface
    if len(surface) > 1:
        return previous.endswith(surface[1])
    return index + 1 < len(tokens) and previous[-1:] == tokens[index + 1].surface[:1]


def _ko_prohibition(tokens: Sequence[Token], index: int) -> bool:
    """ko ～면 안 되다 (must not): the 안 after the conditional ending negates the verb before it."""
    return tokens[index].key == "안" and index > 0 and tokens[index - 1].key in ("면", "으면") and \
        tokens[index - 1].tag.startswith("EC") and any(t.key == "되" for t in tokens[index + 1:index + 3])


def find_cues(tokens: Sequence[Token], text: str, language: str) -> Cues:
    """The negation cues and clauses of an analyzed text (``text`` is what the tokens' offsets refer to)."""
    rules = RULES.get(language)
    if rules is None or not tokens:
        return NO_CUES
    marks = [m.start() for m in _CLAUSE_END.finditer(text)]
    if language == "th":  # Thai writes no commas or full stops: a space separates clauses and sentences
        marks = sorted([*marks, *(m.start() for m in _SPACE.finditer(text))])
    pre, post, clause, extra = [], [], [], 0
    for index, token in enumerate(tokens):
        if token.surface in rules.boundaries and (language != "ja" or token.tag.startswith(_JA_LINKS)):
            extra += 1
        clause.append(bisect.bisect_right(marks, token.start) + extra)
        if rules.pre and _is_cue(token, rules.pre, rules, language) and \
                not (language == "ko" and _ko_obligation(tokens, index)) and \
                not (language == "zh" and _zh_a_not_a(tokens, index)):
            if language == "ko" and _ko_prohibition(tokens, index):
                post.append(index)
                continue
            pre.append(index)
        if rules.post and _is_cue(token, rules.post, rules, language):
            if language == "ja" and (_ja_cancelled(tokens, index) or _ja_second_of_obligation(tokens, index)):
                continue
            if language == "ko" and _ko_obligation(tokens, index):
                continue
            post.append(index)
    return Cues(tuple(pre), tuple(post), tuple(clause))


def is_negated(cues: Cues, first: int, last: int, language: str) -> bool:
    """Whether a hit covering tokens ``first..last`` lies in the scope of a cue outside it."""
    if not cues.clause:
        return False
    rules = RULES[language]
    clause = cues.clause[first]
    for cue in cues.pre:
        if cue < first and first - cue <= rules.pre_window and cues.clause[cue] == clause:
            return True
    end_clause = cues.clause[last]
    return any(cue > last and cue - last <= rules.post_window and cues.clause[cue] == end_clause
               for cue in cues.post)


_TR_NEGATIVE = re.compile(r"^[a-zçğıöşü]{0,3}?m(?:[ae](?:y|z|d[ıiuü]|m|n[ıi]z|s[ıi]n)|[ıiuü]yor)")


def turkish_negative(surface: str, lemma: str) -> bool:
    """Whether a Turkish word is its lemma plus the negative suffix (kov-ma-yalım, et-me-yeceğim, ed-e-mem,
    katıl-mıyor-um), not the infinitive (-mak), the necessitative (-malı) or a verbal noun (-ması).

    The lemma's last letter may have softened (et -> ed-), so the suffix is read after all but that letter.
    """
    if len(lemma) < 2 or not surface.startswith(lemma[:-1]) or surface == lemma:
        return False
    rest = surface[len(lemma):] if surface.startswith(lemma) else surface[len(lemma) - 1:]
    return bool(_TR_NEGATIVE.match(rest))


@functools.cache
def negation_languages() -> frozenset[str]:
    return frozenset(RULES)
