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
from simulation.backends.registry import backend_names, get_backend, register_backend
from simulation.backends.retry import generate_with_retries

__all__ = ["AgentContext", "Backend", "EndpointError", "GenerationConfig", "Message", "Reply", "RetryDecision",
           "backend_names", "generate_with_retries", "get_backend", "register_backend"]
