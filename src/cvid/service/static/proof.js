// Checks a ledger entry's inclusion proof in the reader's browser, trusting only
// WebCrypto: the leaf hash is recomputed from the entry, the proof is walked as
// RFC 9162 §2.1.3.2 says, the result is compared with the root of the signed
// checkpoint, and the checkpoint's Ed25519 signatures (the log's, then the
// witnesses' cosignatures, C2SP signed-note / tlog-cosignature) are verified.
// Every step is listed on the page. Text goes in with textContent only.
"use strict";
(function () {
  var encoder = new TextEncoder();
  var ED25519 = 0x01; // signed-note key type: Ed25519
  var COSIGNATURE = 0x04; // signed-note key type: cosignature/v1

  function Failure(message) { this.message = message; }

  function fail(message) { throw new Failure(message); }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function short(bytes) { return hex(bytes); }

  function fromBase64(text, what) {
    var binary;
    try { binary = atob(text); } catch (e) { fail(what + " is not valid base64"); }
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
    if (leafIndex >= treeSize) fail("step 1: leaf index " + leafIndex + " is not below tree size " + treeSize);
    var fn = leafIndex, sn = treeSize - 1n, r = hash;
    say("fn = " + fn + ", sn = " + sn + ", r = leaf hash (RFC 9162 §2.1.3.2 steps 2-3)");
    for (var k = 0; k < path.length; k++) {
      var p = path[k];
      if (sn === 0n) fail("step 4.a: the path has more hashes than a tree of " + treeSize + " needs");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        say("path[" + k + "] is the left sibling: r = SHA-256(0x01 ‖ path[" + k + "] ‖ r) = " + short(r) + " (step 4.b.i)");
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; } // step 4.b.ii
        }
      } else {
        r = await nodeHash(r, p);
        say("path[" + k + "] is the right sibling: r = SHA-256(0x01 ‖ r ‖ path[" + k + "]) = " + short(r) + " (step 4.b, otherwise)");
      }
      fn >>= 1n; sn >>= 1n; // step 4.c
    }
    if (sn !== 0n) fail("step 5: the path ends before the root (sn = " + sn + ", not 0)");
    return r;
  }

  // C2SP signed-note: text, a blank line, then "— <name> <base64(key id ‖ signature)>" lines.
  function parseNote(note) {
    var split = note.lastIndexOf("\n\n");
    if (split < 0) fail("the checkpoint note has no blank line before its signatures");
    var body = note.slice(0, split + 1);
    var lines = body.slice(0, -1).split("\n");
    if (lines.length < 3) fail("the checkpoint needs origin, size and root lines");
    if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) fail("the checkpoint's tree size is not a number");
    var signatures = note.slice(split + 2).split("\n").filter(function (l) { return l !== ""; })
      .map(function (line) {
        if (line.indexOf("\u2014 ") !== 0) fail("a signature line does not start with '\u2014 '");
        var rest = line.slice(2), space = rest.indexOf(" ");
        var blob = fromBase64(rest.slice(space + 1), "a signature");
        return { name: rest.slice(0, space), keyId: blob.slice(0, 4), blob: blob.slice(4) };
      });
    var root = fromBase64(lines[2], "the checkpoint's root hash");
    if (root.length !== 32) fail("the checkpoint's root hash is not 32 bytes");
    return { body: body, origin: lines[0], size: BigInt(lines[1]), root: root, signatures: signatures };
  }

  // A verifier key "<name>+<hex key id>+<base64(type ‖ public key)>", its id checked.
  async function parseKey(text, type) {
    var i = text.indexOf("+"), j = text.indexOf("+", i + 1);
    if (i < 1 || j < 0) fail("a key is not in the signed-note key format");
    var name = text.slice(0, i), id = text.slice(i + 1, j);
    var raw = fromBase64(text.slice(j + 1), "a key");
    if (raw[0] !== type || raw.length !== 33) fail("key " + name + " is not an Ed25519 key of type " + type);
    var pub = raw.slice(1);
    var computed = (await sha256(concat(encoder.encode(name + "\n"), new Uint8Array([type]), pub))).slice(0, 4);
    if (hex(computed) !== id) fail("key " + name + ": its id " + id + " does not match the key");
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
    var entry = fromBase64(doc.entry, "the entry");
    var proof = doc.inclusion;
    var index = BigInt(proof.leaf_index), size = BigInt(proof.tree_size);
    if (index !== BigInt(pageIndex)) fail("the proof is for entry " + index + ", not entry " + pageIndex);
    var leaf = await leafHash(entry);
    say("leaf hash = SHA-256(0x00 ‖ entry of " + entry.length + " bytes) = " + short(leaf) + " (RFC 9162 §2.1.1)");
    var path = proof.proof.map(function (h, k) {
      var bytes = fromBase64(h, "path[" + k + "]");
      if (bytes.length !== 32) fail("path[" + k + "] is not a 32-byte hash");
      return bytes;
    });
    var root = await rootFromPath(index, size, leaf, path, say);
    var note = parseNote(doc.checkpoint);
    say("checkpoint: origin " + note.origin + ", tree size " + note.size + ", root " + short(note.root));
    if (note.size !== size) fail("the proof is for a tree of " + size + " entries, the checkpoint for " + note.size);
    if (!equal(root, note.root)) fail("the computed root " + short(root) + " is not the checkpoint's root " + short(note.root));
    say("computed root = checkpoint root: entry " + index + " is in the signed tree");

    var body = encoder.encode(note.body);
    var logKey = await parseKey(doc.log_key, ED25519);
    if (logKey.name !== note.origin) fail("the log key's name " + logKey.name + " is not the checkpoint's origin");
    var logSig = signatureBy(note, logKey);
    if (!logSig) fail("the checkpoint has no signature by the log key " + logKey.name);
    try {
      if (!(await ed25519(logKey.pub, logSig.blob, body))) fail("the log's Ed25519 signature on the checkpoint is invalid");
    } catch (e) {
      if (e instanceof Failure) throw e;
      return { signatures: false, reason: "this browser cannot verify Ed25519 (" + e.name + ")" };
    }
    say("the log's Ed25519 signature on the checkpoint is valid (key " + logKey.name + "+" + hex(logKey.keyId) + ")");

    var witnesses = doc.witnesses, cosigned = [];
    if (witnesses) {
      for (var w = 0; w < witnesses.keys.length; w++) {
        var key = await parseKey(witnesses.keys[w], COSIGNATURE);
        var sig = signatureBy(note, key);
        if (!sig) { say("witness " + key.name + ": no cosignature"); continue; }
        if (sig.blob.length !== 72) fail("witness " + key.name + ": the cosignature is not 8 + 64 bytes");
        var time = new DataView(sig.blob.buffer, sig.blob.byteOffset, 8).getBigUint64(0);
        var message = concat(encoder.encode("cosignature/v1\ntime " + time + "\n"), body);
        if (!(await ed25519(key.pub, sig.blob.slice(8), message))) fail("witness " + key.name + ": the cosignature is invalid");
        cosigned.push(key.name);
        say("witness " + key.name + ": cosignature valid (cosignature/v1, time " + new Date(Number(time) * 1000).toISOString() + ")");
      }
      if (cosigned.length < witnesses.threshold) {
        fail(cosigned.length + " of " + witnesses.threshold + " required witnesses cosigned the checkpoint");
      }
    }
    return { signatures: true, cosigned: cosigned, threshold: witnesses ? witnesses.threshold : 0, index: index, size: size };
  }

  async function run(section) {
    var verdict = document.getElementById("proof-verdict");
    var list = document.getElementById("proof-steps");
    if (!verdict || !list || verdict.getAttribute("data-result") !== "pending") return;
    function say(text, bad) {
      var li = document.createElement("li");
      li.textContent = text;
      li.className = bad ? "bad" : "ok";
      list.appendChild(li);
    }
    function show(result, text) { verdict.setAttribute("data-result", result); verdict.textContent = text; }
    if (!window.crypto || !crypto.subtle) {
      show("unavailable", "Not checked: this page is not in a secure context (https or localhost), so the browser offers no WebCrypto.");
      return;
    }
    try {
      var response = await fetch(section.getAttribute("data-proof-url"), { cache: "no-store" });
      var doc = await response.json();
      if (!response.ok) fail("the server sent no proof: " + (doc.detail || response.status));
      var result = await check(doc, section.getAttribute("data-leaf-index"), say);
      if (!result.signatures) {
        show("root-only", "Root verified by your browser; the checkpoint's signatures were not checked: " + result.reason + ".");
        return;
      }
      var witnesses = result.threshold ? "; " + result.cosigned.length + " witnesses cosigned it (" + result.threshold + " needed)" : "";
      show("verified", "Proof verified by your browser: entry " + result.index + " is in the log's signed tree of " + result.size + " entries; the log's signature is valid" + witnesses + ".");
    } catch (e) {
      var message = e instanceof Failure ? e.message : String(e);
      say(message, true);
      show("failed", "Proof check FAILED: " + message);
    }
  }

  function start() {
    var section = document.getElementById("proof");
    if (section) run(section);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
