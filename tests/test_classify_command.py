"""``social-care classify``: JSON Lines in, one verdict line out per post, streaming, bad lines skipped."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from social_care.classify import RuleClassifier
from social_care.classify_command import StreamReport, classify_stream
from social_care.learning.triage import Triage
from social_care.matching import WatchMatcher
from social_care.posts import MAX_POST_TEXT
from social_care.resources import example_config
from social_care.watchlist import product_tiers, watch_terms
from tests.support.configs import demo_config
from tests.test_cli import COMMAND, social_care

OUTPUT_KEYS = [
    "id",
    "category",
    "confidence",
    "cluster",
    "sentiment",
    "language",
    "priority",
    "decided_by",
    "matched_terms",
    "reasons",
]


class Run:
    """One run of the streaming function over the demo configuration's watch terms."""

    def __init__(self, lines: list[str | bytes], *, matcher: WatchMatcher | None = None, path: Path) -> None:
        config = demo_config(path)
        self.output, self.errors = io.BytesIO(), io.StringIO()
        self.report = classify_stream(
            (line if isinstance(line, bytes) else line.encode("utf-8") for line in lines),
            self.output,
            self.errors,
            matcher=matcher or WatchMatcher(watch_terms(config)),
            triage=Triage(RuleClassifier(product_tiers(config))),
        )

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.output.getvalue().decode("utf-8").splitlines()]

    @property
    def error_lines(self) -> list[str]:
        return self.errors.getvalue().splitlines()


def post(post_id: str, text: str, **extra: Any) -> str:
    return json.dumps({"id": post_id, "text": text, **extra}) + "\n"


def test_each_post_gets_one_result_line_in_input_order(tmp_path: Path) -> None:
    texts = ["My Velora Pulse is not working", "Do you ship to Switzerland?", "Grazie Velora, bravissimi"]
    run = Run([post(str(number), text) for number, text in enumerate(texts)], path=tmp_path)
    assert [record["id"] for record in run.records] == ["0", "1", "2"]
    assert [record["category"] for record in run.records] == ["complaint", "inquiry", "praise"]
    assert all(list(record) == OUTPUT_KEYS for record in run.records)
    assert run.report == StreamReport(classified=3, skipped=0) and run.errors.getvalue() == ""


def test_matched_terms_say_which_term_where_and_how_close(tmp_path: Path) -> None:
    text = "Il mio Velora Pluse non funziona, @velora_help"
    (record,) = Run([post("a", text)], path=tmp_path).records
    product, brand = record["matched_terms"]
    assert product["term"] == "Velora Pulse" and product["kind"] == "product"
    assert product["text"] == "Velora Pluse" == text[product["start"] : product["end"]]
    assert 88 <= product["score"] < 100
    assert brand == {
        "term": "Velora",
        "kind": "brand",
        "text": "velora_help",
        "start": 35,
        "end": 46,
        "score": 100.0,
    }


def test_a_post_naming_no_watch_term_is_still_classified(tmp_path: Path) -> None:
    (record,) = Run([post("a", "your app is broken again")], path=tmp_path).records
    assert record["matched_terms"] == [] and record["category"] == "complaint"
    assert any("negative cue" in reason for reason in record["reasons"])


def test_classification_works_with_no_watch_terms_at_all(tmp_path: Path) -> None:
    run = Run([post("a", "@velora Pulse? Where is my refund?")], matcher=WatchMatcher([]), path=tmp_path)
    (record,) = run.records
    assert record["matched_terms"] == [] and record["category"] in {"complaint", "inquiry"}


def test_language_reach_and_direct_address_are_taken_from_the_line(tmp_path: Path) -> None:
    plain, loud, italian = Run(
        [
            post("plain", "your courier: my order is late"),
            post("loud", "your courier: my order is late", author_followers=50_000, direct=True),
            post("italian", "ok", lang="it"),
        ],
        path=tmp_path,
    ).records
    assert (plain["priority"], loud["priority"]) == ("normal", "high")
    assert "wide reach (50,000 followers)" in loud["reasons"]
    assert (plain["language"], italian["language"]) == ("en", "it")


def test_bad_lines_are_reported_with_their_number_and_skipped(tmp_path: Path) -> None:
    run = Run(
        [
            post("1", "fine"),
            "{not json\n",
            "[1, 2]\n",
            '{"text": "no id"}\n',
            '{"id": 7, "text": "numeric id"}\n',
            '{"id": "8"}\n',
            post("9", "x", author_followers="many"),
            post("10", "x", author_followers=-1),
            post("11", "x", direct="yes"),
            post("12", "x", lang=3),
            b'{"id": "13", "text": "caf\xe9"}\n',
            post("14", "also fine"),
        ],
        path=tmp_path,
    )
    assert [record["id"] for record in run.records] == ["1", "14"]
    assert run.report == StreamReport(classified=2, skipped=10)
    assert run.error_lines == [
        "line 2: not JSON (Expecting property name enclosed in double quotes at column 2)",
        "line 3: expected a JSON object, found an array",
        'line 4: missing "id"',
        'line 5: "id" must be a string, found a number',
        'line 6: missing "text"',
        'line 7: "author_followers" must be a whole number of at least 0, found a string',
        'line 8: "author_followers" must be a whole number of at least 0, found -1',
        'line 9: "direct" must be true or false, found a string',
        'line 10: "lang" must be a string, found a number',
        "line 11: not UTF-8 (byte 26 cannot be decoded)",
    ]


def test_empty_lines_are_ignored_but_still_counted(tmp_path: Path) -> None:
    run = Run(["\n", post("a", "hello"), "   \r\n", "oops\n"], path=tmp_path)
    assert [record["id"] for record in run.records] == ["a"]
    assert run.error_lines == ["line 4: not JSON (Expecting value at column 1)"]


def test_empty_input_writes_nothing(tmp_path: Path) -> None:
    run = Run([], path=tmp_path)
    assert run.output.getvalue() == b"" and run.errors.getvalue() == ""
    assert run.report == StreamReport(classified=0, skipped=0)


def test_null_optional_fields_mean_not_given(tmp_path: Path) -> None:
    run = Run([post("a", "hello", lang=None, author_followers=None, direct=None)], path=tmp_path)
    assert run.report.classified == 1


def test_output_is_utf8_and_stays_valid_when_the_text_has_lone_surrogates(tmp_path: Path) -> None:
    run = Run([post("é", "Vélora è rotto"), '{"id": "s", "text": "\\ud83d Velora"}\n'], path=tmp_path)
    first, second = run.output.getvalue().splitlines()
    assert '"id": "é"'.encode() in first
    assert json.loads(second)["matched_terms"][0]["text"] == "Velora"


def test_each_result_is_written_before_the_next_line_is_read(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    output = io.BytesIO()
    written_when_asked: list[int] = []

    def lines() -> Iterator[bytes]:
        for number in range(3):
            written_when_asked.append(output.getvalue().count(b"\n"))
            yield post(str(number), "Velora is down").encode()

    classify_stream(
        lines(),
        output,
        io.StringIO(),
        matcher=WatchMatcher(watch_terms(config)),
        triage=Triage(RuleClassifier(product_tiers(config))),
    )
    assert written_when_asked == [0, 1, 2]


def _clean_environ() -> dict[str, str]:
    return {
        key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "SOCIAL_CARE_CONFIG"}
    }


def _read_line(stream: IO[str], process: subprocess.Popen[str]) -> str:
    """One line from the process, or the process killed (and "" returned) if none comes within a minute."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(stream.readline)
        try:
            return reading.result(timeout=60)
        except TimeoutError:
            process.kill()
            return ""


def test_the_command_answers_each_line_before_its_input_ends(tmp_path: Path) -> None:
    with subprocess.Popen(
        [COMMAND, "classify", "-"],
        cwd=tmp_path,
        env=_clean_environ(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    ) as process:
        assert process.stdin and process.stdout
        process.stdin.write(post("first", "My Velora Pulse is not working") + "\n")
        process.stdin.flush()
        first = json.loads(_read_line(process.stdout, process) or "null")
        process.stdin.write(post("second", "Grazie Velora!"))
        process.stdin.flush()
        second = json.loads(_read_line(process.stdout, process) or "null")
        _, stderr = process.communicate(timeout=60)
    assert first["id"] == "first" and first["matched_terms"][0]["term"] == "Velora Pulse"
    assert second["id"] == "second" and second["category"] == "praise"
    assert process.returncode == 0, stderr


def test_the_command_reads_a_file_and_exits_1_when_it_skipped_lines(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text(post("1", "Velora is down") + "not json\n" + post("3", "ok"), encoding="utf-8")
    result = social_care("classify", str(posts), "--config", str(example_config()), cwd=tmp_path)
    assert result.returncode == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["1", "3"]
    assert result.stderr == "line 2: not JSON (Expecting value at column 1)\n"
    missing = social_care("classify", str(tmp_path / "nowhere.jsonl"), cwd=tmp_path)
    assert missing.returncode == 2 and "Cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_a_line_nested_too_deeply_or_holding_a_huge_number_is_one_bad_line(tmp_path: Path) -> None:
    run = Run(
        [
            post("1", "fine"),
            "[" * 100_000 + "]" * 100_000 + "\n",
            '{"id": "3", "text": "x", "extra": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}\n",
            '{"id": "4", "text": "x", "author_followers": ' + "9" * 5_000 + "}\n",
            post("5", "still fine"),
        ],
        path=tmp_path,
    )
    assert [record["id"] for record in run.records] == ["1", "5"]
    assert run.error_lines == [
        "line 2: nested too deeply to read",
        "line 3: nested too deeply to read",
        "line 4: a number has more than 4,300 digits",
    ]


def test_a_text_longer_than_the_documented_cap_is_skipped_and_one_at_the_cap_is_classified(
    tmp_path: Path,
) -> None:
    at_cap = ("Velora is down. " * MAX_POST_TEXT)[:MAX_POST_TEXT]
    run = Run([post("long", at_cap + "!"), post("capped", at_cap)], path=tmp_path)
    assert [record["id"] for record in run.records] == ["capped"]
    assert run.error_lines == [
        'line 1: "text": the text is 40,001 characters long, more than the 40,000 allowed'
    ]
