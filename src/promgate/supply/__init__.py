"""Supply chain: SBOMs, signatures, in-toto statements, offline verification and the registry.

The ``supply_check`` stage writes the supply-chain evidence the gate reads; the ``attest``
stage writes ``attestations/`` (see ``layout``); ``promgate verify`` checks it;
``promgate promote`` / ``rollback`` move GTO stage tags and append to a signed, hash-chained
ledger. One concept per module:

- ``keys``: the signing key (a development key is generated on first use)
- ``certs``: X.509 signing certificates and chains
- ``signer``: who signs (key, certificate or Sigstore keyless), chosen by the environment
- ``trust``: what a verifier trusts, and the verifier for each signing method
- ``sign``: model_signing signatures (Sigstore bundles) over files and folders
- ``dsse``: DSSE-wrapped in-toto statements in Sigstore bundle format
- ``check``: the supply_check stage (SBOM, secret scan, signed checkpoints, provenance)
- ``sbom`` / ``mlbom``: the CycloneDX 1.6 environment SBOM and ML-BOM
- ``provenance`` / ``vsa``: SLSA provenance v1 and the verification summary
- ``decision``: the signed decision record
- ``secret_scan``: detect-secrets over everything about to be signed
- ``attest``: the attest stage, end to end
- ``recompute``: the gate recomputed from stored per-item results
- ``verify``: every signature, digest and statement, and the recomputed gate
- ``ledger`` / ``registry``: the decision ledger and GTO promotion / rollback
"""
