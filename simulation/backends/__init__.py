"""Model backends behind one interface, built by name from a registry."""

from simulation.backends.base import (
    AgentContext,
    Backend,
    EndpointError,
    GenerationConfig,
    Message,
    Reply,
    RetryDecision,
)
from simulation.backends.registry import (
    backend_fingerprint,
    backend_for_model,
    backend_names,
    backend_options,
    register_backend,
)
from simulation.backends.retry import generate_with_retries

__all__ = ["AgentContext", "Backend", "EndpointError", "GenerationConfig", "Message", "Reply", "RetryDecision",
           "backend_fingerprint", "backend_for_model", "backend_names", "backend_options", "generate_with_retries",
           "register_backend"]
