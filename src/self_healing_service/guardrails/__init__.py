"""Guardrails: a chain of small stages, each answering "go on" (None) or `Stop` with a reason."""

from self_healing_service.guardrails.stage import Limits, Stage, StageInput, Stop
from self_healing_service.guardrails.stages import default_chain, run_chain

__all__ = ["Limits", "Stage", "StageInput", "Stop", "default_chain", "run_chain"]
