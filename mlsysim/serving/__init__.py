"""LLM serving: prefill and decode, KV cache and batching, queueing, capacity, speculative decoding,
reasoning at inference time, weight streaming."""
