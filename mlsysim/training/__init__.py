"""Training at scale: collectives, topology, distributed steps, compute-optimal scaling."""
