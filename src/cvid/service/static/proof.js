// Checks a ledger entry's inclusion proof in the reader's browser, trusting only
// WebCrypto: the leaf hash is recomputed from the entry, the proof is walked as
// RFC 9162 §2.1.3.2 says, the result is compared with the root of the signed
// checkpoint, and the checkpoint's Ed25519 signatures (the log's, then the
// witnesses' cosignatures, C2SP signed-note / tlog-cosignature) are verified.
// Every step is listed on the page. Text goes in with textContent only.
// What it writes comes from the page, in the reader's language: the #proof section's
// data-text attribute holds each message by key, with %(name)s placeholders.
"use strict";
(function () {
  var encoder = new TextEncoder();
  var ED25519 = 0x01; // signed-note key type: Ed25519
  var COSIGNATURE = 0x04; // signed-note key type: cosignature/v1
  var TEXT = {};

  // The message ``key`` with its placeholders filled from ``values``.
  function t(key, values) {
    var text = Object.prototype.hasOwnProperty.call(TEXT, key) ? TEXT[key] : key;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function Failure(message) { this.message = message; }

  function fail(key, values) { throw new Failure(t(key, values)); }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function short(bytes) { return hex(bytes); }

  // ``what``: a message key naming the value, or the value's own name (path[k]).
  function fromBase64(text, what) {
    var binary;
    try { binary = atob(text); } catch (e) { fail("bad-base64", { what: t(what) }); }
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  function concat() {
    var total = 0, i;
    for (i = 0; i < arguments.length; i++) total += arguments[i].length;
    var out = new Uint8Array(total), at = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // RFC 9162 §2.1.1: leaf hash and interior node hash.
  function leafHash(entry) { return sha256(concat(new Uint8Array([0x00]), entry)); }
  function nodeHash(left, right) { return sha256(concat(new Uint8Array([0x01]), left, right)); }

  // RFC 9162 §2.1.3.2: the root an inclusion path leads to (BigInt: sizes are u64).
  async function rootFromPath(leafIndex, treeSize, hash, path, say) {
    if (leafIndex >= treeSize) fail("leaf-index", { index: leafIndex, size: treeSize });
    var fn = leafIndex, sn = treeSize - 1n, r = hash;
    say(t("walk", { fn: fn, sn: sn }));
    for (var k = 0; k < path.length; k++) {
      var p = path[k];
      if (sn === 0n) fail("too-long", { size: treeSize });
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        say(t("left", { k: k, hash: short(r) }));
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; } // step 4.b.ii
        }
      } else {
        r = await nodeHash(r, p);
        say(t("right", { k: k, hash: short(r) }));
      }
      fn >>= 1n; sn >>= 1n; // step 4.c
    }
    if (sn !== 0n) fail("too-short", { sn: sn });
    return r;
  }

  // C2SP signed-note: text, a blank line, then "— <name> <base64(key id ‖ signature)>" lines.
  function parseNote(note) {
    var split = note.lastIndexOf("\n\n");
    if (split < 0) fail("no-blank-line");
    var body = note.slice(0, split + 1);
    var lines = body.slice(0, -1).split("\n");
    if (lines.length < 3) fail("few-lines");
    if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) fail("bad-size");
    var signatures = note.slice(split + 2).split("\n").filter(function (l) { return l !== ""; })
      .map(function (line) {
        if (line.indexOf("\u2014 ") !== 0) fail("bad-signature-line", { dash: "\u2014 " });
        var rest = line.slice(2), space = rest.indexOf(" ");
        var blob = fromBase64(rest.slice(space + 1), "what-signature");
        return { name: rest.slice(0, space), keyId: blob.slice(0, 4), blob: blob.slice(4) };
      });
    var root = fromBase64(lines[2], "what-root");
    if (root.length !== 32) fail("root-length");
    return { body: body, origin: lines[0], size: BigInt(lines[1]), root: root, signatures: signatures };
  }

  // A verifier key "<name>+<hex key id>+<base64(type ‖ public key)>", its id checked.
  async function parseKey(text, type) {
    var i = text.indexOf("+"), j = text.indexOf("+", i + 1);
    if (i < 1 || j < 0) fail("key-format");
    var name = text.slice(0, i), id = text.slice(i + 1, j);
    var raw = fromBase64(text.slice(j + 1), "what-key");
    if (raw[0] !== type || raw.length !== 33) fail("key-type", { name: name, type: type });
    var pub = raw.slice(1);
    var computed = (await sha256(concat(encoder.encode(name + "\n"), new Uint8Array([type]), pub))).slice(0, 4);
    if (hex(computed) !== id) fail("key-id", { name: name, id: id });
    return { name: name, keyId: computed, pub: pub };
  }

  async function ed25519(pub, signature, message) {
    var key = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  function signatureBy(note, key) {
    return note.signatures.find(function (s) { return s.name === key.name && equal(s.keyId, key.keyId); });
  }

  async function check(doc, pageIndex, say) {
    var entry = fromBase64(doc.entry, "what-entry");
    var proof = doc.inclusion;
    var index = BigInt(proof.leaf_index), size = BigInt(proof.tree_size);
    if (index !== BigInt(pageIndex)) fail("wrong-entry", { index: index, page: pageIndex });
    var leaf = await leafHash(entry);
    say(t("leaf", { bytes: entry.length, hash: short(leaf) }));
    var path = proof.proof.map(function (h, k) {
      var bytes = fromBase64(h, "path[" + k + "]");
      if (bytes.length !== 32) fail("path-size", { k: k });
      return bytes;
    });
    var root = await rootFromPath(index, size, leaf, path, say);
    var note = parseNote(doc.checkpoint);
    say(t("checkpoint", { origin: note.origin, size: note.size, root: short(note.root) }));
    if (note.size !== size) fail("size-mismatch", { size: size, checkpoint: note.size });
    if (!equal(root, note.root)) fail("root-mismatch", { computed: short(root), root: short(note.root) });
    say(t("in-tree", { index: index }));

    var body = encoder.encode(note.body);
    var logKey = await parseKey(doc.log_key, ED25519);
    if (logKey.name !== note.origin) fail("origin", { name: logKey.name });
    var logSig = signatureBy(note, logKey);
    if (!logSig) fail("no-log-signature", { name: logKey.name });
    try {
      if (!(await ed25519(logKey.pub, logSig.blob, body))) fail("bad-log-signature");
    } catch (e) {
      if (e instanceof Failure) throw e;
      return { signatures: false, reason: t("no-ed25519", { error: e.name }) };
    }
    say(t("log-signature", { key: logKey.name + "+" + hex(logKey.keyId) }));

    var witnesses = doc.witnesses, cosigned = [];
    if (witnesses) {
      for (var w = 0; w < witnesses.keys.length; w++) {
        var key = await parseKey(witnesses.keys[w], COSIGNATURE);
        var sig = signatureBy(note, key);
        if (!sig) { say(t("no-cosignature", { name: key.name })); continue; }
        if (sig.blob.length !== 72) fail("cosignature-length", { name: key.name });
        var time = new DataView(sig.blob.buffer, sig.blob.byteOffset, 8).getBigUint64(0);
        var message = concat(encoder.encode("cosignature/v1\ntime " + time + "\n"), body);
        if (!(await ed25519(key.pub, sig.blob.slice(8), message))) fail("bad-cosignature", { name: key.name });
        cosigned.push(key.name);
        say(t("cosignature", { name: key.name, time: new Date(Number(time) * 1000).toISOString() }));
      }
      if (cosigned.length < witnesses.threshold) {
        fail("too-few-witnesses", { cosigned: cosigned.length, threshold: witnesses.threshold });
      }
    }
    return { signatures: true, cosigned: cosigned, threshold: witnesses ? witnesses.threshold : 0, index: index, size: size };
  }

  async function run(section) {
    var verdict = document.getElementById("proof-verdict");
    var list = document.getElementById("proof-steps");
    if (!verdict || !list || verdict.getAttribute("data-result") !== "pending") return;
    try { TEXT = JSON.parse(section.getAttribute("data-text") || "{}"); } catch (e) { TEXT = {}; }
    function say(text, bad) {
      var li = document.createElement("li");
      li.textContent = text;
      li.className = bad ? "bad" : "ok";
      list.appendChild(li);
    }
    function show(result, text) { verdict.setAttribute("data-result", result); verdict.textContent = text; }
    if (!window.crypto || !crypto.subtle) {
      show("unavailable", t("unavailable"));
      return;
    }
    try {
      var response = await fetch(section.getAttribute("data-proof-url"), { cache: "no-store" });
      var doc = await response.json();
      if (!response.ok) fail("no-proof", { detail: doc.detail || response.status });
      var result = await check(doc, section.getAttribute("data-leaf-index"), say);
      if (!result.signatures) {
        show("root-only", t("root-only", { reason: result.reason }));
        return;
      }
      var values = { index: result.index, size: result.size, cosigned: result.cosigned.length, threshold: result.threshold };
      show("verified", t(result.threshold ? "verified-witnessed" : "verified", values));
    } catch (e) {
      var message = e instanceof Failure ? e.message : String(e);
      say(message, true);
      show("failed", t("failed", { reason: message }));
    }
  }

  function start() {
    var section = document.getElementById("proof");
    if (section) run(section);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
