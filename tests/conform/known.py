"""Differences between handshake and Linux that stay, each with its class
and where it is written down (docs/conformance.md explains each):

  "documented": a deliberate difference the docs already describe;
  "rfc":        handshake follows the RFC where Linux deviates (documented
                with the behaviour it concerns).

A scenario listed here passes when the two differ; conform.py notes one
whose difference went away, so the list does not go stale.
"""
KNOWN = {
}
