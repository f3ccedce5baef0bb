"""OpenSSH signatures (SSHSIG, OpenSSH's PROTOCOL.sshsig) with Ed25519 keys, built on ``cryptography``.

A sign-off is signed so that anyone can check it with ``ssh-keygen -Y verify`` and no mou-tracker installed.
The blob is assembled here byte by byte: ``cryptography`` loads OpenSSH keys and makes Ed25519 signatures,
but does not know the SSHSIG envelope. Only Ed25519 is accepted (docs/reference/audit-and-signoff.md:
small, deterministic, no parameters to get wrong). The private key is read, used and dropped: nothing here stores it.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mou_tracker.errors import MouError

NAMESPACE = "mou-tracker-signoff"
MAGIC = b"SSHSIG"
HASH_ALG = "sha512"
KEY_TYPE = "ssh-ed25519"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"


class KeyProblem(MouError):
    """A key file that cannot be used (unreadable, not OpenSSH Ed25519, passphrase-protected...)."""


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _read_string(buf: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(buf):
        raise ValueError("truncated")
    (n,) = struct.unpack(">I", buf[pos:pos + 4])
    end = pos + 4 + n
    if end > len(buf):
        raise ValueError("truncated")
    return buf[pos + 4:end], end


def public_blob(key: Ed25519PublicKey) -> bytes:
    """The SSH wire form of a public key: string "ssh-ed25519", string 32 key bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _string(KEY_TYPE.encode()) + _string(raw)


def public_line(key: Ed25519PublicKey) -> str:
    """``ssh-ed25519 AAAA...`` (the form of a .pub file, without a comment)."""
    return f"{KEY_TYPE} {base64.b64encode(public_blob(key)).decode()}"


def fingerprint(key: Ed25519PublicKey | str) -> str:
    """``SHA256:...`` exactly as ``ssh-keygen -l`` prints it."""
    if isinstance(key, str):
        key = parse_public_key(key)
    digest = hashlib.sha256(public_blob(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An OpenSSH public key line (``ssh-ed25519 AAAA... comment``); raises KeyProblem otherwise."""
    line = next((x.strip() for x in text.splitlines() if x.strip() and not x.lstrip().startswith("#")), "")
    parts = line.split()
    if len(parts) < 2 or parts[0] != KEY_TYPE:
        kind = parts[0] if parts else "nothing"
        raise KeyProblem("expected an OpenSSH Ed25519 public key (a line starting 'ssh-ed25519 AAAA'), found "
                         f"{kind[:30]}; make one with: ssh-keygen -t ed25519")
    try:
        key = serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyProblem("the public key is damaged (its base64 text does not decode to an Ed25519 key)") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProblem("only Ed25519 keys are accepted (ssh-keygen -t ed25519)")
    return key


def load_public_key_file(path: Path | str) -> Ed25519PublicKey:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise KeyProblem(f"cannot read the public key file {path}: {exc.strerror or exc}") from exc
    if "PRIVATE KEY" in text:
        raise KeyProblem(f"{path} is a private key: register the public one (the .pub file); keep the private "
                         "key to yourself")
    return parse_public_key(text)


def load_private_key(path: Path | str, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """An OpenSSH Ed25519 private key file (``ssh-keygen -t ed25519``); raises KeyProblem otherwise."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyProblem(f"cannot read the private key file {path}: {exc.strerror or exc}") from exc
    if len(data) > 64 * 1024:
        raise KeyProblem(f"{path} is not an OpenSSH private key (too large)")
    try:
        key = serialization.load_ssh_private_key(data, password=passphrase)
    except TypeError as exc:
        if passphrase is None:
            raise KeyProblem(f"{path} is protected by a passphrase; give it with MOU_TRACKER_KEY_PASSPHRASE or "
                             "use a key without one") from exc
        raise KeyProblem(f"{path}: {exc}") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        if passphrase is not None and "password" in str(exc).lower():
            raise KeyProblem(f"{path}: wrong passphrase") from exc
        raise KeyProblem(f"{path} is not an OpenSSH private key (expected the file ssh-keygen -t ed25519 wrote, "
                         "beginning '-----BEGIN OPENSSH PRIVATE KEY-----')") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{path} is not an Ed25519 key; only Ed25519 keys are accepted (ssh-keygen -t ed25519)")
    return key


def _signed_data(message: bytes, namespace: str) -> bytes:
    return (MAGIC + _string(namespace.encode()) + _string(b"") + _string(HASH_ALG.encode())
            + _string(hashlib.sha512(message).digest()))


def sign(key: Ed25519PrivateKey, message: bytes, namespace: str = NAMESPACE) -> str:
    """The armored SSHSIG signature of ``message`` (what ``ssh-keygen -Y sign`` writes)."""
    signature = key.sign(_signed_data(message, namespace))
    blob = (MAGIC + struct.pack(">I", 1) + _string(public_blob(key.public_key())) + _string(namespace.encode())
            + _string(b"") + _string(HASH_ALG.encode())
            + _string(_string(KEY_TYPE.encode()) + _string(signature)))
    text = base64.b64encode(blob).decode()
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


@dataclass(frozen=True)
class Checked:
    ok: bool
    problem: str | None = None


def verify(armored: str, message: bytes, key: Ed25519PublicKey | str, namespace: str = NAMESPACE) -> Checked:
    """Check an armored SSHSIG signature of ``message`` made by ``key`` in ``namespace``."""
    if isinstance(key, str):
        try:
            key = parse_public_key(key)
        except KeyProblem as exc:
            return Checked(False, f"the registered key cannot be read ({exc})")
    try:
        body = armored.strip()
        if not body.startswith(BEGIN) or not body.endswith(END):
            return Checked(False, "not an armored SSH signature")
        blob = base64.b64decode("".join(body[len(BEGIN):-len(END)].split()), validate=True)
        if blob[:6] != MAGIC or struct.unpack(">I", blob[6:10])[0] != 1:
            return Checked(False, "not an SSHSIG version 1 signature")
        pub, pos = _read_string(blob, 10)
        ns, pos = _read_string(blob, pos)
        _reserved, pos = _read_string(blob, pos)
        alg, pos = _read_string(blob, pos)
        sig, pos = _read_string(blob, pos)
        kind, p2 = _read_string(sig, 0)
        raw, _ = _read_string(sig, p2)
    except (ValueError, struct.error):
        return Checked(False, "the signature is damaged (it does not decode)")
    if ns.decode(errors="replace") != namespace:
        return Checked(False, f"signed for namespace '{ns.decode(errors='replace')}', not '{namespace}'")
    if pub != public_blob(key):
        return Checked(False, "made with another key than the one registered for the signer")
    if kind != KEY_TYPE.encode() or alg not in (b"sha512", b"sha256"):
        return Checked(False, "not an Ed25519 SSHSIG signature")
    digest = hashlib.sha512(message).digest() if alg == b"sha512" else hashlib.sha256(message).digest()
    data = MAGIC + _string(ns) + _string(b"") + _string(alg) + _string(digest)
    try:
        key.verify(raw, data)
    except InvalidSignature:
        return Checked(False, "the signature does not match the signed message")
    return Checked(True)


def allowed_signers_line(principal: str, key: Ed25519PublicKey | str) -> str:
    """One line of an ssh-keygen allowed_signers file, restricted to our namespace."""
    if isinstance(key, str):
        key = parse_public_key(key)
    return f'{principal} namespaces="{NAMESPACE}" {public_line(key)}'
