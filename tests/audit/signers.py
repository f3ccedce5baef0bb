"""Registering signatories with OpenSSH Ed25519 keys for tests (keys made with ``cryptography``, written in
the OpenSSH formats ``ssh-keygen`` reads)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mou_tracker.services import Services
from mou_tracker.services.users import add_user, set_key


def make_key(folder: Path, name: str) -> tuple[Path, Path]:
    """(private key file, public key file) of a new Ed25519 key, as ``ssh-keygen -t ed25519 -N ''`` writes."""
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private = folder / f"{name}_ed25519"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    public = folder / f"{name}_ed25519.pub"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                     serialization.PublicFormat.OpenSSH) + f" {name}\n".encode())
    return private, public


def register_signatory(admin: Services, folder: Path, name: str, party: str, role: str = "manager") -> Path:
    """Register ``name`` as ``party``'s signatory with a new key; returns the private key file."""
    private, public = make_key(folder, name)
    add_user(admin, name, role, party, True)
    set_key(admin, name, public)
    return private
