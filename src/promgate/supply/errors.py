"""Typed failures of the supply-chain commands, each with its CLI exit code."""

from __future__ import annotations

from promgate.errors import PromgateError


class SupplyChainError(PromgateError):
    """An attestation could not be produced (a tool failed, a signing key is unusable)."""

    exit_code = 2


class SecretFoundError(SupplyChainError):
    """The secret scan found something that looks like a credential; nothing was signed."""

    exit_code = 7


class VerificationError(PromgateError):
    """A signature, digest, statement or the recomputed gate does not match.

    ``check`` names the first thing that failed (e.g. ``signature:results``).
    """

    exit_code = 6

    def __init__(self, check: str, message: str) -> None:
        self.check = check
        self.detail = message
        super().__init__(f"{check}: {message}")


class LedgerError(VerificationError):
    """The decision ledger's hash chain or an entry's signature is broken."""


class PromotionRefusedError(PromgateError):
    """A promotion or rollback was refused (decision not GO, dirty tree, nothing to roll back)."""

    exit_code = 8
