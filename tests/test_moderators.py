"""The measured moderators (swimscale.moderators): tokenizer fertility and [UNK] rate, script, N = 0 level."""

import json
import math

from swimscale import moderators


class Pieces:
    """A stand-in tokenizer: each word is cut into pieces of 3 characters; a word with a digit is [UNK]."""

    unk_token = "[UNK]"

    def tokenize(self, text):
        out = []
        for word in text.split():
            out += ["[UNK]"] if any(c.isdigit() for c in word) else [word[i:i + 3] for i in range(0, len(word), 3)]
        return out


def test_fertility_and_unk_rate_are_subwords_per_word_and_unknown_per_subword():
    stats = moderators.tokenizer_stats(Pieces(), ["abcdef gh", "x1 abc"])
    # words: 4; pieces: abc def gh | [UNK] abc = 5; one unknown
    assert stats == {"n_words": 4, "n_subwords": 5, "fertility": 5 / 4, "unk_rate": 1 / 5}
    empty = moderators.tokenizer_stats(Pieces(), [])
    assert math.isnan(empty["fertility"]) and math.isnan(empty["unk_rate"])


def test_the_dominant_script_is_detected_from_the_letters():
    assert moderators.dominant_script(["नमस्ते दुनिया 123", "hi"]) == "DEVANAGARI"
    assert moderators.dominant_script(["Ìbéèrè mi", "ọ̀rọ̀"]) == "LATIN"
    assert moderators.dominant_script(["北京是中国的首都"]) == "CJK"
    assert moderators.dominant_script(["123 !?"]) == ""


def test_a_row_and_the_table(tmp_path):
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\tabcdef gh\nq2\tx1 abc\n", encoding="utf-8")
    metrics = tmp_path / "zero_shot.json"
    metrics.write_text(json.dumps({"recall_at_50": 0.125, "n_queries": 2}))
    languages = tmp_path / "languages.tsv"
    languages.write_text("# comment\ncode\tname\tscript\tier\nyo\tYoruba\tLatn\tlow\n")
    scripts = moderators.read_scripts(languages)
    row = moderators.moderator_row(Pieces(), "pieces", "yo", "xtreme-up-yo", queries, metrics, scripts)
    assert row["script"] == "Latn" and row["script_detected"] == "LATIN" and row["zero_shot_recall_at_50"] == 0.125
    assert row["fertility"] == 1.25 and row["unk_rate"] == 0.2 and row["n_queries"] == 2
    out = tmp_path / "moderators.tsv"
    moderators.write_table([row], out)
    header, line = out.read_text().splitlines()
    assert header.split("\t") == moderators.COLUMNS
    assert line.split("\t")[:6] == ["yo", "xtreme-up-yo", "Latn", "LATIN", "2", "4"]
    assert moderators.read_scripts(tmp_path / "missing.tsv") == {}


def test_a_real_wordpiece_tokenizer_sees_unknown_scripts_as_unk():
    """The demo's English WordPiece (MiniLM): English is cut into few pieces; Ge'ez letters are [UNK]."""
    from swimscale.model import load_tokenizer

    tokenizer = load_tokenizer("bundled:all-MiniLM-L6-v2")
    english = moderators.tokenizer_stats(tokenizer, ["where is the capital of nigeria"])
    geez = moderators.tokenizer_stats(tokenizer, ["ሰላም ልዑል"])
    assert english["unk_rate"] == 0 and english["fertility"] < 1.5
    assert geez["unk_rate"] > 0.5
