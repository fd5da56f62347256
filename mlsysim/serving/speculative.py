"""Speculative decoding: a draft model proposes ``k`` tokens; the target verifies them in one pass
(Leviathan et al. 2023).

With each drafted token accepted with probability alpha, a round yields 1 + alpha + ... + alpha^k
tokens, so acceptance 0 can only be slower than plain decoding. Both models are timed by the
engine: the draft's decode steps and the target's verification, a prefill of k + 1 tokens after
the context.
"""
from __future__ import annotations

from ..engine.engine import step_figures
from ..errors import InputError
from ..run import fraction, resolve_model, whole

#: the share of drafted tokens the target accepts when none is given
DEFAULT_ACCEPTANCE = 0.7
#: tokens the draft proposes per round when none is given
DEFAULT_DRAFT_LEN = 4


class Speculation:
    """A draft model, its acceptance rate and draft length, and what they cost per generated token."""

    def __init__(self, draft_model, acceptance=None, draft_len=None):
        self.draft = resolve_model(draft_model)
        if not self.draft.family.decoder:
            raise InputError(f"the draft model {self.draft.name} is not a decoder language model")
        self.alpha = DEFAULT_ACCEPTANCE if acceptance is None else fraction("draft_acceptance_rate", acceptance)
        self.k = DEFAULT_DRAFT_LEN if draft_len is None else whole("draft_len", draft_len)
        alpha = self.alpha
        self.expected = self.k + 1.0 if alpha == 1.0 else (1.0 - alpha ** (self.k + 1)) / (1.0 - alpha)

    @property
    def note(self) -> str:
        return (f"speculative decoding: {self.draft.name} drafts {self.k} tokens, acceptance {self.alpha:g} -> "
                f"{self.expected:.2f} tokens per target pass")

    def per_token(self, target, B, context, comm, pp):
        """Seconds per generated token: k draft steps and one verification, over the tokens a round yields.

        ``target`` is the (sharded) target's run on its device, where the draft runs too; ``comm`` the
        target's communication per pass.
        """
        draft = step_figures(target.at(workload=self.draft, phase="decode", batch_size=B, seq_len=context))
        verify = step_figures(target.at(phase="prefill", batch_size=B, seq_len=float(self.k + 1), past_len=context))
        return (self.k * draft.latency_s + verify.latency_s * pp + comm) / self.expected

    def bytes(self, target, B, context):
        """What the draft keeps resident: its weights and its own KV cache."""
        prof = step_figures(target.at(workload=self.draft, phase="decode", batch_size=B, seq_len=context))
        return prof.memory_parts["weights"] + prof.memory_parts["kv_cache"]
