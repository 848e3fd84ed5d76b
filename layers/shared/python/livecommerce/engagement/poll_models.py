"""Poll and quiz API shapes."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from livecommerce.shared.fields import Integer, Text, integer, text

Option = Text


class CreatePollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Text = text("The question the room sees.", min_length=1, max_length=100)
    options: list[Option] = Field(min_length=2, max_length=10, description="2 to 10 options, each once.")
    multiple: bool = Field(default=False, description="Multiple choice: a vote names 1 to `max_choices` options.")
    max_choices: Integer | None = integer("Multiple choice: at most this many options per vote (default: all).",
                                          default=None, ge=1, le=10)
    duration_seconds: Integer = integer("Open this long from now.", ge=10, le=3600)


class CreateQuizRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Text = text("The question the room sees.", min_length=1, max_length=100)
    options: list[Option] = Field(min_length=2, max_length=10, description="2 to 10 options, each once.")
    answer: Integer = integer("The right option (0-based); hidden until the quiz closes.", ge=0, le=9)
    points: Integer = integer("Points for a right answer (the points ledger, once per quiz and viewer).",
                              default=10, ge=0, le=10_000)
    duration_seconds: Integer = integer("The timer: answers are taken this long from now.", ge=5, le=600)


class VoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choices: list[Integer] = Field(min_length=1, max_length=10,
                                   description="Option indexes (0-based): one for a single-choice poll. 422 "
                                               "`option_not_found` for an option the poll lacks.")


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: Integer = integer("The option chosen (0-based). 422 `option_not_found` for one the quiz lacks.",
                              ge=0, le=99)


class PollView(BaseModel):
    id: str
    room_id: str
    kind: str = Field(description="poll or quiz")
    question: str
    options: list[str]
    multiple: bool = False
    max_choices: int = 1
    state: str = Field(description="open or closed")
    opens_at: str
    closes_at: str
    counts: list[int] | None = Field(default=None, description="Votes per option (polls; quizzes once closed).")
    total: int = Field(description="Votes (polls) or answers (quizzes).")
    my_choices: list[int] | None = None
    answer: int | None = Field(default=None, description="Quizzes: the right option, once closed.")
    points: int | None = None
    ranking: list[dict] | None = Field(default=None, description="Quizzes, once closed: right answerers, fastest first.")


class Voted(BaseModel):
    poll_id: str
    choices: list[int]
    voted_at: str


class Answered(BaseModel):
    quiz_id: str
    choice: int
    answered_at: str
    note: str = "The answer is revealed when the quiz closes."
