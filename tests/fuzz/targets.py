"""Every parser that takes outside bytes, as a fuzz target: inputs and a check.

A target is a name, a hypothesis strategy of inputs (valid samples, mutated: see
:mod:`tests.fuzz.mutate`) and ``open``, a context manager yielding ``run(input)``.
``run`` returns when the input is accepted and raises a :class:`cvid.errors.Error`
when it is refused; anything else it raises (or an HTTP status of 500 and above) is a
finding. ``tests/fuzz/test_fuzz.py`` runs a small budget of each target in the test
suite; ``python -m tests.fuzz.run`` (``make fuzz``) runs the campaign.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from hypothesis import strategies as st

from cvid import agreement as ag
from cvid._jcs import canonical, parse_json
from cvid.cli.escrow import _read_items, _read_partition
from cvid.errors import Error, InputError
from cvid.escrow import Item, Partition, commit, reveal_cells
from cvid.escrow.reveal import Reveal, verify_reveal
from cvid.events.envelope import Event, SignedEvent, sign_event, verify_signature
from cvid.log.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from cvid.log.cosignature import (
    Cosignature,
    CosignatureSigner,
    CosignatureVerifier,
    WitnessPolicy,
    add_cosignatures,
    cosign,
)
from cvid.log.merkle import EMPTY_ROOT
from cvid.log.note import Note, NoteVerifier, Signer, open_note
from cvid.log.tiles import ENTRIES, TileId, decode_bundle, encode_bundle, parse_tile_path, tile_path
from cvid.roadmap import loader
from cvid.service.app import create_app
from cvid.service.core import Limits, Service
from cvid.witness.protocol import AddCheckpointRequest, parse_cosignatures, parse_size
from cvid.witness.server import create_witness_app
from tests.fuzz.mutate import derive, mutated_bytes, mutated_json, mutated_text
from tests.unit.escrow.strategies import seeded
from tests.unit.witness.witnesses import LOG_KEY, ORIGIN, FakeClock, add_checkpoint, make_log

Run = Callable[[Any], None]
ROOT = Path(__file__).resolve().parents[2]


class ServerError(AssertionError):
    """An HTTP answer of 500 or above: always a finding."""


class Refused(InputError):
    """An HTTP answer in the 4xx range: the service refused the request, as it may."""


@dataclass(frozen=True)
class Target:
    """One parser of outside bytes, the inputs to give it, and how to run one."""

    name: str
    inputs: st.SearchStrategy[Any]
    open: Callable[[], contextlib.AbstractContextManager[Run]]
    #: for cheap parsers: byte-level neighbours of an input, which the campaign runs
    #: after each hypothesis example (drawing from hypothesis costs more than parsing)
    derive: Callable[[Any, random.Random], Any] | None = None


def _plain(run: Run) -> Callable[[], contextlib.AbstractContextManager[Run]]:
    @contextlib.contextmanager
    def opened() -> Iterator[Run]:
        yield run

    return opened


# --- signed notes, checkpoints, cosignatures ------------------------------------------

LOG = Signer.generate(ORIGIN, seed=b"\x11" * 32)
OTHER = Signer.generate("other.example/log", seed=b"\x12" * 32)
WITNESSES = [CosignatureSigner.generate(f"w{n}.example", seed=bytes([n]) * 32) for n in (1, 2, 3)]
POLICY = WitnessPolicy(2, tuple(w.verifier for w in WITNESSES))
T0 = 1_800_000_000


def _checkpoints() -> list[Checkpoint]:
    return [
        Checkpoint(ORIGIN, 0, EMPTY_ROOT),
        Checkpoint(ORIGIN, 1, bytes(range(32))),
        Checkpoint(ORIGIN, 2**64 - 1, b"\xff" * 32, ("ext one", "ext — two")),
    ]


def _signed_notes() -> list[bytes]:
    notes = []
    for checkpoint in _checkpoints():
        note = sign_checkpoint(checkpoint, LOG)
        lines = [cosign(checkpoint.to_text(), w, at=T0 + n) for n, w in enumerate(WITNESSES)]
        notes.extend([note, add_cosignatures(note, lines[:2]), add_cosignatures(note, lines)])
    notes.append(sign_checkpoint(Checkpoint("other.example/log", 5, b"\x01" * 32), OTHER))
    return notes


NOTES = _signed_notes()
VERIFIERS: list[NoteVerifier] = [LOG.verifier, OTHER.verifier, *(w.verifier for w in WITNESSES)]


def run_note(data: bytes) -> None:
    Note.from_bytes(data).to_bytes()
    open_note(data, VERIFIERS)


def run_checkpoint(data: tuple[str, bytes]) -> None:
    kind, raw = data
    if kind == "text":
        parsed = Checkpoint.from_text(raw)
        assert Checkpoint.from_text(parsed.to_text()) == parsed
    else:
        open_checkpoint(raw, LOG.verifier)


def run_cosignature(data: tuple[str, bytes]) -> None:
    kind, raw = data
    if kind == "line":
        line = Cosignature.from_line(raw)
        assert Cosignature.from_line(line.to_signature().to_line()) == line
    elif kind == "key":
        text = raw.decode("utf-8", "surrogateescape")
        assert CosignatureVerifier.from_text(text).to_text() == text
    else:
        POLICY.verify(raw)


COSIGNATURE_LINES = [
    line for note in NOTES for line in note.split(b"\n\n")[-1].splitlines(keepends=True)
]
WITNESS_KEYS = [w.verifier.to_text().encode() for w in WITNESSES]


# --- tiles ------------------------------------------------------------------------------

TILE_PATHS = [
    tile_path(TileId(level, index), width)
    for level, index, width in [
        (0, 0, 256),
        (0, 1234067, 12),
        (ENTRIES, 5, 1),
        (ENTRIES, 1000, 256),
        (3, 999, 255),
    ]
]
BUNDLES = [encode_bundle([]), encode_bundle([b"a", b"", b"x" * 300]), encode_bundle([b"\0" * 70])]


def run_tile(data: tuple[str, bytes]) -> None:
    kind, raw = data
    if kind == "path":
        path = raw.decode("utf-8", "surrogateescape")
        tile, width = parse_tile_path(path)
        assert tile_path(tile, width) == path
    else:
        assert encode_bundle(decode_bundle(raw)) == raw


# --- witness requests (tlog-witness) ----------------------------------------------------


def _witness_requests() -> list[bytes]:
    log = make_log([b"entry %d" % i for i in range(40)])
    return [add_checkpoint(log, old, size) for old, size in [(0, 0), (0, 1), (0, 7), (3, 17)]] + [
        add_checkpoint(log, 17, 40),
        add_checkpoint(log, 40, 40),
    ]


WITNESS_REQUESTS = _witness_requests()
SIZE_BODIES = [b"0\n", b"17\n", b"18446744073709551615\n"]


def run_witness_protocol(data: tuple[str, bytes]) -> None:
    kind, raw = data
    if kind == "request":
        request = AddCheckpointRequest.from_bytes(raw)
        assert AddCheckpointRequest.from_bytes(request.to_bytes()) == request
    elif kind == "size":
        parse_size(raw)
    else:
        parse_cosignatures(raw)


class _Asgi:
    """Requests to an ASGI app in this process, on one event loop kept between them."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://fuzz.test")

    def request(self, method: str, path: str, content: bytes | None = None) -> httpx.Response:
        answer = self.loop.run_until_complete(self.client.request(method, path, content=content))
        if answer.status_code >= 500:
            raise ServerError(f"{method} {path} answered {answer.status_code}: {answer.text[:300]}")
        if answer.status_code >= 400:
            raise Refused(f"{method} {path} answered {answer.status_code}")
        return answer

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@contextlib.contextmanager
def open_witness_http() -> Iterator[Run]:
    with tempfile.TemporaryDirectory() as tmp:
        witness = CosignatureSigner.generate("witness.fuzz", seed=b"\x07" * 32)
        app = create_witness_app(
            witness, {ORIGIN: [LOG_KEY.verifier]}, str(Path(tmp) / "w.db"), clock=FakeClock()
        )
        http = _Asgi(app)

        def run(body: bytes) -> None:
            http.request("POST", "/add-checkpoint", body)

        try:
            yield run
        finally:
            http.close()


# --- event envelopes and NDJSON batches ---------------------------------------------------

EVENT_TIME = dt.datetime(2027, 2, 1, 12, 0, tzinfo=dt.UTC)
EVENT_SEEDS: list[tuple[str, str, dict[str, Any]]] = [
    ("usa", "council.draft.tabled", {"draft": "d1", "title": "Endorsement", "purpose": "endorse"}),
    ("dprk", "step.reported", {"step": "test-moratorium"}),
    ("iaea", "step.verified", {"step": "test-moratorium", "outcome": "confirmed"}),
    ("chn", "guarantee.signed", {"guarantee": "g-nsa"}),
    ("rus", "council.vote.cast", {"draft": "d1", "vote": "yes"}),
    ("dprk", "inventory.observed", {"note": "a note [/] with \u001b]0;x\u0007 markup"}),
]


def _event_dicts(agreement_id: str, digest: str) -> list[dict[str, Any]]:
    return [
        Event(
            agreement=agreement_id,
            roadmap=digest,
            type=kind,
            party=party,
            seq=n,
            time=EVENT_TIME,
            body=body,
        ).to_dict()
        for n, (party, kind, body) in enumerate(EVENT_SEEDS, 1)
    ]


def _envelope_bytes(envelope: Any, signers: dict[str, Signer], *, resign: bool) -> bytes:
    """A mutated envelope as bytes, re-signed when it still names a known party."""
    if resign and isinstance(envelope, dict) and isinstance(envelope.get("event"), dict):
        with contextlib.suppress(Error):
            event = Event.from_dict(envelope["event"])
            signer = signers.get(event.party)
            if signer is not None:
                envelope["signature"] = sign_event(event, signer).to_dict()["signature"]
    try:
        return canonical(envelope)
    except Error:
        return json.dumps(envelope).encode()


def envelope_inputs(
    seeds: list[bytes], envelopes: list[Any], events: list[Any]
) -> st.SearchStrategy[Any]:
    """Byte-mutated signed events, or JSON-mutated events with a valid signature."""
    return st.one_of(
        st.tuples(st.just("bytes"), mutated_bytes(seeds)),
        st.tuples(st.just("json"), mutated_json(envelopes), st.booleans()),
        st.tuples(st.just("json"), mutated_json(events), st.just(True)),
    )


_ENVELOPE_SIGNERS = {
    p: Signer.generate(p, seed=p.encode().ljust(32, b"\0")) for p, _, _ in EVENT_SEEDS
}
_ENVELOPE_DICTS = _event_dicts("dprk-phased", "sha256:" + "ab" * 32)
ENVELOPES = [
    sign_event(Event.from_dict(d), _ENVELOPE_SIGNERS[d["party"]]).to_bytes()
    for d in _ENVELOPE_DICTS
]
_ENVELOPE_KEYS = [s.verifier for s in _ENVELOPE_SIGNERS.values()]
ENVELOPE_INPUTS = envelope_inputs(
    ENVELOPES, [json.loads(s) for s in ENVELOPES], [{"event": d} for d in _ENVELOPE_DICTS]
)
# The service's seeds must be signed by its agreement's keys, which exist only once the
# target is open: the strategies read these lists at each draw, and open_service_http
# fills them (until then they hold the envelope target's seeds).
SERVICE_SEEDS = list(ENVELOPES)
SERVICE_ENVELOPES = [json.loads(s) for s in ENVELOPES]
SERVICE_EVENTS: list[Any] = [{"event": d} for d in _ENVELOPE_DICTS]


def _as_bytes(data: Any, signers: dict[str, Signer]) -> bytes:
    if data[0] == "bytes":
        return bytes(data[1])
    return _envelope_bytes(data[1], signers, resign=data[2])


def derive_envelope(data: Any, rng: random.Random) -> Any:
    """A byte-level neighbour of an envelope input, whichever form it was drawn in."""
    return derive(("bytes", _as_bytes(data, _ENVELOPE_SIGNERS)), rng)


def run_envelope(data: Any) -> None:
    raw = _as_bytes(data, _ENVELOPE_SIGNERS)
    signed = SignedEvent.from_bytes(raw)
    assert signed.to_bytes() == raw
    signed.body_size()
    verify_signature(signed, _ENVELOPE_KEYS)


_AGREEMENT_ADOPTED = EVENT_TIME - dt.timedelta(days=30)


@contextlib.contextmanager
def open_service_http() -> Iterator[Run]:
    """The service's API over a fresh dprk-phased agreement, its clock at EVENT_TIME."""
    with tempfile.TemporaryDirectory() as tmp:
        made = ag.create_from_template(Path(tmp) / "ag", "dprk-phased", adopt_at=_AGREEMENT_ADOPTED)
        parties = [p.id for p in made.roadmap.parties]
        signers = {p: made.signer(p) for p in parties}
        dicts = _event_dicts(made.roadmap.agreement.id, made.gate.digest)
        made.close()
        # Point the service's seeds at this agreement (see SERVICE_SEEDS).
        SERVICE_SEEDS[:] = [
            sign_event(Event.from_dict(d), signers[d["party"]]).to_bytes() for d in dicts
        ]
        SERVICE_ENVELOPES[:] = [json.loads(s) for s in SERVICE_SEEDS]
        SERVICE_EVENTS[:] = [{"event": d} for d in dicts]
        service = Service(
            ag.Agreement.open(Path(tmp) / "ag"),
            clock=lambda: EVENT_TIME,
            limits=Limits(party_rate=1e9, party_burst=10**9),
            checkpoint_interval=3600.0,
        )
        http = _Asgi(create_app(service, examples={}))
        http.loop.run_until_complete(service.start())

        def run(data: Any) -> None:
            kind = data[0]
            if kind == "batch":
                lines = [_as_bytes(item, signers) for item in data[1]]
                http.request("POST", "/api/v1/events/batch", b"\n".join(lines) + data[2])
            elif kind == "tile":
                # Percent-encoded, as a client must send it; the service decodes it.
                path = urllib.parse.quote(bytes(data[1]).lstrip(b"/"), safe="/")
                try:
                    url = httpx.URL("/" + path)
                except httpx.InvalidURL as e:  # longer than any client sends (64 KiB)
                    raise Refused(f"not a URL a client sends: {e}") from e
                http.request("GET", str(url))
            else:
                http.request("POST", "/api/v1/events", _as_bytes(data[1], signers))

        try:
            yield run
        finally:
            http.loop.run_until_complete(service.stop())
            http.close()


def service_inputs() -> st.SearchStrategy[Any]:
    one = envelope_inputs(SERVICE_SEEDS, SERVICE_ENVELOPES, SERVICE_EVENTS)
    return st.one_of(
        st.tuples(st.just("event"), one),
        st.tuples(
            st.just("batch"),
            st.lists(one, min_size=1, max_size=4),
            st.sampled_from([b"", b"\n", b"\r\n", b"\n\n \n"]),
        ),
        st.tuples(
            st.just("tile"),
            mutated_bytes([p.encode() for p in TILE_PATHS] + [b"tile/entries/000.p/1"]),
        ),
    )


# --- escrow: reveals and item files -------------------------------------------------------

PARTITION = Partition(("yongbyon", "sohae", "kangson", "empty"))
ITEMS = [
    Item("w-1", "warhead", "yongbyon", {"mass": 12.5, "site": "hall 2"}),
    Item("w-2", "warhead", "yongbyon", {"count": 3}),
    Item("r-1", "reactor", "sohae", {}),
    Item("m-1", "missile", "kangson", {"name": "é"}),
]
ESCROW = commit(ITEMS, PARTITION, random_bytes=seeded(3))
REVEALS = [r.to_dict() for r in reveal_cells(ESCROW, list(PARTITION.cells), max_leaves=1)]


def run_reveal(data: Any) -> None:
    if isinstance(data, tuple):  # bytes, as an event body brings them
        data = parse_json(data[1])
    reveal = Reveal.from_dict(data)
    verify_reveal(reveal, root=ESCROW.root, size=ESCROW.size, partition=PARTITION)


def derive_reveal(data: Any, rng: random.Random) -> Any:
    """A byte-level neighbour of a reveal's JSON text."""
    raw = data[1] if isinstance(data, tuple) else json.dumps(data).encode()
    return derive(("json", raw), rng)


ITEM_FILES = [
    (
        ".csv",
        b"id,category,cell,mass,site\nw-1,warhead,yongbyon,12.5,hall 2\n"
        b'r-1,reactor,sohae,,\nm-1,missile,kangson,7,"a, b"\n',
    ),
    (
        ".yaml",
        b"- {id: w-1, category: warhead, cell: yongbyon, attributes: {mass: 12.5}}\n"
        b"- id: r-1\n  category: reactor\n  cell: sohae\n  attributes: {}\n",
    ),
    (".partition.yaml", b"cells: [yongbyon, sohae, kangson]\n"),
    (".partition.yaml", b"grid: {rows: 3, cols: 4}\n"),
]


@contextlib.contextmanager
def open_item_files() -> Iterator[Run]:
    with tempfile.TemporaryDirectory() as tmp:

        def run(data: tuple[str, bytes]) -> None:
            suffix, raw = data
            path = Path(tmp) / f"items{suffix}"
            path.write_bytes(raw)
            if suffix == ".partition.yaml":
                _read_partition(path)
            else:
                _read_items(path)

        yield run


def item_inputs() -> st.SearchStrategy[tuple[str, bytes]]:
    return st.one_of(
        *(
            st.tuples(st.just(suffix), mutated_bytes([raw for s, raw in ITEM_FILES if s == suffix]))
            for suffix in (".csv", ".yaml", ".partition.yaml")
        )
    )


# --- road maps ----------------------------------------------------------------------------

ROADMAPS = [
    (ROOT / "tests/fixtures/mini-roadmap.yaml").read_text(encoding="utf-8"),
    (ROOT / "src/cvid/roadmap/templates/kazakhstan-1991.yaml").read_text(encoding="utf-8"),
]


def run_roadmap(text: str) -> None:
    loader.loads(text)


# --- the list -----------------------------------------------------------------------------


def _kinds(**seeds: list[bytes]) -> st.SearchStrategy[tuple[str, bytes]]:
    return st.one_of(*(st.tuples(st.just(k), mutated_bytes(v)) for k, v in seeds.items()))


TARGETS: tuple[Target, ...] = (
    Target("signed-note", mutated_bytes(NOTES), _plain(run_note), derive=derive),
    Target(
        "checkpoint",
        _kinds(text=[Note.from_bytes(n).text for n in NOTES], note=NOTES),
        _plain(run_checkpoint),
        derive=derive,
    ),
    Target(
        "cosignature",
        _kinds(line=COSIGNATURE_LINES, key=WITNESS_KEYS, note=NOTES),
        _plain(run_cosignature),
        derive=derive,
    ),
    Target(
        "tiles",
        _kinds(path=[p.encode() for p in TILE_PATHS], bundle=BUNDLES),
        _plain(run_tile),
        derive=derive,
    ),
    Target(
        "witness-protocol",
        _kinds(
            request=WITNESS_REQUESTS,
            size=SIZE_BODIES,
            cosignatures=[b"".join(COSIGNATURE_LINES[:3]), *COSIGNATURE_LINES],
        ),
        _plain(run_witness_protocol),
        derive=derive,
    ),
    Target("event-envelope", ENVELOPE_INPUTS, _plain(run_envelope), derive=derive_envelope),
    Target(
        "escrow-reveal",
        mutated_json(REVEALS, max_edits=4),
        _plain(run_reveal),
        derive=derive_reveal,
    ),
    Target("witness-http", mutated_bytes(WITNESS_REQUESTS), open_witness_http),
    Target("escrow-item-files", item_inputs(), open_item_files, derive=derive),
    Target("service-http", service_inputs(), open_service_http),
    Target("roadmap-yaml", mutated_text(ROADMAPS), _plain(run_roadmap), derive=derive),
)

__all__ = ["TARGETS", "Refused", "ServerError", "Target"]
