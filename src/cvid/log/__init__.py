"""The transparency log: RFC 9162 Merkle tree, C2SP checkpoints, notes and tiles."""
