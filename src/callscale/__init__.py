"""callscale: measure, predict and budget the scaling of compound LLM systems."""

from callscale.records import Completion, Message, ModelCard, Request, Sampling, Usage

__all__ = ["Completion", "Message", "ModelCard", "Request", "Sampling", "Usage"]
__version__ = "0.1.0"
