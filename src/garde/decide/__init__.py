"""The decision point: may this activity use these categories of this subject's data?"""

from garde.decide.model import ActivityRules, Decision, DecisionModel, Reason
from garde.decide.point import DecisionPoint, DecisionRequest
from garde.decide.rules import SubjectFacts, evaluate

__all__ = [
    "ActivityRules", "Decision", "DecisionModel", "DecisionPoint", "DecisionRequest", "Reason",
    "SubjectFacts", "evaluate",
]
