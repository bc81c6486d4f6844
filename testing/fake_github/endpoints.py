"""The REST endpoints the fake answers, each a method taking the query, the parsed body and
the path's groups, and the table routing requests to them."""

from __future__ import annotations

import re
from typing import Any

from testing.fake_github.model import REACTIONS, ROLES, ApiError, Reply, invalid, not_found
from testing.fake_github.shapes import Shapes, one, rate_limit_json


class Endpoints(Shapes):
    """Each endpoint raises `ApiError` for GitHub's error answers."""

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
        if path == "/rate_limit" and method == "GET":
            return Reply(200, rate_limit_json())
        base = f"/repos/{self.owner}/{self.name}".lower()
        if not path.lower().startswith(base) or path[len(base) : len(base) + 1] not in ("", "/"):
            raise not_found()
        rest = path[len(base) :]
        for pattern, verb, handler in ROUTES:
            match = re.fullmatch(pattern, rest)
            if match and verb == method:
                reply: Reply = handler(self, query, body, *match.groups())
                return reply
        raise not_found()

    # -- endpoints -------------------------------------------------------------------------

    def _get_repo(self, query: Any, body: Any) -> Reply:
        return Reply(200, self._repo_json())

    def _list_pulls(self, query: dict[str, list[str]], body: Any) -> Reply:
        state = one(query, "state", "open")
        head, base = one(query, "head", ""), one(query, "base", "")
        found = [i for i in self.issues.values() if "pull" in i]
        if state != "all":
            found = [i for i in found if i["state"] == state]
        if ":" in head:  # GitHub silently ignores a head filter without its owner
            owner, _, branch = head.partition(":")
            found = [
                i
                for i in found
                if owner.lower() == self.owner.lower() and i["pull"]["head"] == branch
            ]
        if base:
            found = [i for i in found if i["pull"]["base"] == base]
        sort = one(query, "sort", "created")
        desc = one(query, "direction", "desc" if sort == "created" else "asc") == "desc"
        key = "updated_at" if sort == "updated" else "created_at"
        found.sort(key=lambda i: (i[key], i["number"]), reverse=desc)
        return self._paged([self._pull_json(i, full=False) for i in found], query, "/pulls")

    def _create_pull(self, query: Any, body: dict[str, Any]) -> Reply:
        for name in ("head", "base"):
            if not isinstance(body.get(name), str):
                raise invalid("PullRequest", "missing_field", field=name)
        if not body.get("title"):
            raise invalid("PullRequest", "missing_field", field="title")
        owner, _, branch = body["head"].rpartition(":")
        if owner and owner.lower() != self.owner.lower():
            raise invalid("PullRequest", "invalid", field="head")
        issue = self._new_pull(branch, body["base"], body["title"], body.get("body") or "", None)
        return Reply(201, self._pull_json(issue, full=True))

    def _get_pull(self, query: Any, body: Any, number: str) -> Reply:
        return Reply(200, self._pull_json(self._pull(int(number)), full=True))

    def _update_pull(self, query: Any, body: dict[str, Any], number: str) -> Reply:
        issue = self._pull(int(number))
        pull = issue["pull"]
        if "base" in body:
            if not self._branch_exists(body["base"]):
                raise invalid("PullRequest", "invalid", field="base")
            pull["base"] = body["base"]
        if body.get("state") not in (None, issue["state"]):
            if pull["merged_at"]:
                raise ApiError(422, "Cannot change the state of a merged pull request.")
            if body["state"] == "open":
                self._check_no_open_pull(pull["head"], pull["base"])
                issue.update(state="open", closed_at=None)
            else:
                self._close(issue)
        issue.update({k: body[k] for k in ("title", "body") if k in body})
        issue["updated_at"] = self._now()
        return Reply(200, self._pull_json(issue, full=True))

    def _request_reviewers(self, query: Any, body: Any, number: str) -> Reply:
        """The fake knows no teams: any team slug is taken."""
        issue = self._pull(int(number))
        body = body if isinstance(body, dict) else {}
        users, teams = body.get("reviewers") or [], body.get("team_reviewers") or []
        for names in (users, teams):
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise invalid("PullRequest", "invalid", field="reviewers")
        if any(u.lower() == issue["author"].lower() for u in users):
            raise ApiError(422, "Review cannot be requested from pull request author.")
        known = {login.lower() for login, role in self.collaborators.items() if role != "none"}
        if any(u.lower() not in known for u in users):
            raise ApiError(
                422,
                "Reviews may only be requested from collaborators. One or more of the users "
                "or teams you specified is not a collaborator of the "
                f"{self.repository} repository.",
            )
        pull = issue["pull"]
        for key, names in (("reviewers", users), ("teams", teams)):
            asked = pull.setdefault(key, [])
            asked += [n for n in names if n.lower() not in {a.lower() for a in asked}]
        issue["updated_at"] = self._now()
        return Reply(201, self._pull_json(issue, full=False))

    def _get_issue(self, query: Any, body: Any, number: str) -> Reply:
        return Reply(200, self._issue_json(self._issue(int(number))))

    def _list_issues(self, query: dict[str, list[str]], body: Any) -> Reply:
        """Pull requests are issues too here, as on GitHub (they carry `pull_request`)."""
        state = one(query, "state", "open")
        wanted = {n.strip().lower() for n in one(query, "labels", "").split(",") if n.strip()}
        found = [
            i
            for i in self.issues.values()
            if (state == "all" or i["state"] == state)
            and wanted <= {name.lower() for name in i["labels"]}
        ]
        sort = one(query, "sort", "created")
        desc = one(query, "direction", "desc") == "desc"
        key = "updated_at" if sort == "updated" else "created_at"
        found.sort(key=lambda i: (i[key], i["number"]), reverse=desc)
        return self._paged([self._issue_json(i) for i in found], query, "/issues")

    def _create_issue(self, query: Any, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        if not isinstance(body.get("title"), str) or not body["title"]:
            raise invalid("Issue", "missing_field", field="title")
        if not isinstance(body.get("body") or "", str):
            raise invalid("Issue", "invalid", field="body")
        labels = body.get("labels") or []
        if not isinstance(labels, list) or not all(isinstance(n, str) for n in labels):
            raise invalid("Issue", "invalid", field="labels")
        issue = self._new_issue(body["title"], body.get("body") or "", self.bot)
        for name in labels:
            self._label_issue(issue, name)
        return Reply(201, self._issue_json(issue))

    def _edit_issue(self, query: Any, body: Any, number: str) -> Reply:
        issue = self._issue(int(number))
        body = body if isinstance(body, dict) else {}
        for name in ("title", "body"):
            if name in body and not isinstance(body[name], str | None):
                raise invalid("Issue", "invalid", field=name)
        if body.get("state") not in (None, "open", "closed"):
            raise invalid("Issue", "invalid", field="state")
        if "pull" in issue and body.get("state") not in (None, issue["state"]):
            if body["state"] == "closed":
                self._close(issue)
            else:
                issue.update(state="open", closed_at=None)
        elif body.get("state") not in (None, issue["state"]):
            closed = self._now() if body["state"] == "closed" else None
            issue.update(state=body["state"], closed_at=closed)
        issue.update({k: body[k] or "" for k in ("title", "body") if k in body})
        if isinstance(body.get("labels"), list):
            issue["labels"] = []
            for name in body["labels"]:
                self._label_issue(issue, str(name))
        issue["updated_at"] = self._now()
        return Reply(200, self._issue_json(issue))

    def _list_comments(self, query: dict[str, list[str]], body: Any, number: str) -> Reply:
        issue = self._issue(int(number))
        n = issue["number"]
        found = [self._comment_json(c) for c in self.comments.values() if c["issue"] == n]
        return self._paged(found, query, f"/issues/{n}/comments")

    def _create_comment(self, query: Any, body: dict[str, Any], number: str) -> Reply:
        if not body.get("body"):
            raise invalid("IssueComment", "missing_field", field="body")
        comment = self._new_comment(self._issue(int(number)), body["body"], self.bot)
        return Reply(201, self._comment_json(comment))

    def _get_comment(self, query: Any, body: Any, comment_id: str) -> Reply:
        if int(comment_id) not in self.comments:
            raise not_found()
        return Reply(200, self._comment_json(self.comments[int(comment_id)]))

    def _react(self, query: Any, body: dict[str, Any], comment_id: str) -> Reply:
        if int(comment_id) not in self.comments:
            raise not_found()
        content = body.get("content")
        if content not in REACTIONS:
            raise invalid("Reaction", "invalid", field="content")
        known = self.reactions.setdefault(int(comment_id), [])
        for reaction in known:  # the same user's same reaction is answered, not duplicated
            if reaction["content"] == content and reaction["user"]["login"] == self.bot:
                return Reply(200, reaction)
        reaction = {
            "id": next(self._ids),
            "node_id": "REA_fake",
            "user": self._user(self.bot),
            "content": content,
            "created_at": self._now(),
        }
        known.append(reaction)
        return Reply(201, reaction)

    def _add_issue_labels(self, query: Any, body: Any, number: str) -> Reply:
        issue = self._issue(int(number))
        names = body.get("labels") if isinstance(body, dict) else body
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise invalid("Label", "invalid", field="labels")
        for name in names:
            self._label_issue(issue, name)
        return Reply(200, [self.labels[n.lower()] for n in issue["labels"]])

    def _list_labels(self, query: dict[str, list[str]], body: Any) -> Reply:
        return self._paged(list(self.labels.values()), query, "/labels")

    def _post_label(self, query: Any, body: dict[str, Any]) -> Reply:
        label = self._create_label(body.get("name"), body.get("color"), body.get("description"))
        return Reply(201, label)

    def _get_label(self, query: Any, body: Any, name: str) -> Reply:
        if name.lower() not in self.labels:
            raise not_found()
        return Reply(200, self.labels[name.lower()])

    def _permission(self, query: Any, body: Any, login: str) -> Reply:
        if login not in self.collaborators:
            raise not_found()
        role = self.collaborators[login]
        if role == "none" and not self.private:  # everyone may read a public repository
            role = "read"
        permission, role_name = ROLES[role]
        user = {**self._user(login), "role_name": role_name}
        return Reply(200, {"permission": permission, "role_name": role_name, "user": user})


ROUTES: list[tuple[str, str, Any]] = [
    (r"", "GET", Endpoints._get_repo),
    (r"/pulls", "GET", Endpoints._list_pulls),
    (r"/pulls", "POST", Endpoints._create_pull),
    (r"/pulls/(\d+)", "GET", Endpoints._get_pull),
    (r"/pulls/(\d+)", "PATCH", Endpoints._update_pull),
    (r"/pulls/(\d+)/requested_reviewers", "POST", Endpoints._request_reviewers),
    (r"/issues", "GET", Endpoints._list_issues),
    (r"/issues", "POST", Endpoints._create_issue),
    (r"/issues/(\d+)", "GET", Endpoints._get_issue),
    (r"/issues/(\d+)", "PATCH", Endpoints._edit_issue),
    (r"/issues/(\d+)/comments", "GET", Endpoints._list_comments),
    (r"/issues/(\d+)/comments", "POST", Endpoints._create_comment),
    (r"/issues/(\d+)/labels", "POST", Endpoints._add_issue_labels),
    (r"/issues/comments/(\d+)", "GET", Endpoints._get_comment),
    (r"/issues/comments/(\d+)/reactions", "POST", Endpoints._react),
    (r"/labels", "GET", Endpoints._list_labels),
    (r"/labels", "POST", Endpoints._post_label),
    (r"/labels/([^/]+)", "GET", Endpoints._get_label),
    (r"/collaborators/([^/]+)/permission", "GET", Endpoints._permission),
]
