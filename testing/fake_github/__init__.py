"""An in-process stand-in for GitHub's REST API v3 on 127.0.0.1, speaking the real JSON shapes,
status codes and error bodies, so tests drive the real PyGithub through `base_url`.

It holds one repository: collaborators and their roles, issues and pull requests sharing one
number sequence, issue comments, reactions and labels. Given a bare git repository as the
remote, pull requests are validated against its branches and follow their head commits, and an
open one whose head branch is deleted is closed, as on GitHub. Every request is recorded;
one-shot faults (`fail`, `rate_limit`) are answered before anything else, a fault can let the
first matching requests through (`skip`). Tests change state through `FakeGitHub`'s methods,
never by editing the dicts.

Modules: `model` (state, rules, error bodies), `shapes` (GitHub's JSON), `endpoints` (the
REST routes), `server` (`FakeGitHub`: HTTP, faults, recording), `remote` (the git remote).
"""

from testing.fake_github.model import TOKEN, Reply, rate_limited
from testing.fake_github.remote import make_remote, push_branch
from testing.fake_github.server import FakeGitHub, serve_github

__all__ = [
    "TOKEN",
    "FakeGitHub",
    "Reply",
    "make_remote",
    "push_branch",
    "rate_limited",
    "serve_github",
]
