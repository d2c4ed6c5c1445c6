"""A SageMaker Studio that deletes things over time, behind a real botocore client.

moto 5.2.5 implements only CreateDomain, DescribeDomain and DeleteDomain of Studio, deletes a domain at
once, and answers a missing domain with ValidationException where SageMaker answers ResourceNotFound. This
fake answers the calls the teardown makes (ListApps, DeleteApp, DescribeApp, ListSpaces, DeleteSpace,
ListUserProfiles, DeleteUserProfile, DescribeDomain) through botocore's own hooks, the way
botocore's Stubber does, so the client still validates every request against the SageMaker model; unlike
Stubber's fixed script, what it answers depends on what was deleted and how many polls ago. CloudFormation's
DescribeStacks is answered the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.client import BaseClient

Answer = Callable[[dict[str, Any]], dict[str, Any]]


class FakeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def answer_with(client: BaseClient, answers: dict[str, Answer]) -> list[tuple[str, dict[str, Any]]]:
    """Answer the client's operations (by name) with the functions given; returns the calls, in order.

    Any other operation fails the test: the client would otherwise try the network.
    """
    calls: list[tuple[str, dict[str, Any]]] = []
    service = client.meta.service_model.service_id.hyphenize()

    def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fake_params"] = dict(params)

    def respond(model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = context.get("fake_params", {})
        calls.append((model.name, params))
        if model.name not in answers:
            raise AssertionError(f"the fake does not answer {service} {model.name}")
        try:
            parsed = answers[model.name](params)
            status = 200
        except FakeError as error:
            parsed = {"Error": {"Code": error.code, "Message": error.message}}
            status = 400
        parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": status, "RequestId": "fake"})
        return AWSResponse("https://fake.invalid", status, HTTPHeaders(), None), parsed

    client.meta.events.register(f"before-parameter-build.{service}", keep_params)
    # botocore uses the first handler's answer instead of sending the request (as Stubber does).
    responder: Any = respond
    client.meta.events.register(f"before-call.{service}", responder)
    return calls


@dataclass
class Item:
    """An app, space, user profile or the domain: its status, and how many polls a deletion takes."""

    status: str
    polls_to_delete: int = 1
    failure_reason: str | None = None
    deleting_for: int = 0


@dataclass
class FakeStudio:
    """One domain's apps, spaces and user profiles; `tick()` is one poll's worth of time."""

    domain_id: str
    domain_arn: str
    domain: Item | None = field(default_factory=lambda: Item("InService"))
    # (owner kind "UserProfileName"/"SpaceName", owner, app type, app name) -> app
    apps: dict[tuple[str, str, str, str], Item] = field(default_factory=dict)
    spaces: dict[str, Item] = field(default_factory=dict)
    profiles: dict[str, Item] = field(default_factory=dict)
    page_size: int = 2
    throttle: set[str] = field(default_factory=set)  # operations to throttle once each
    other_domain_ids: set[str] = field(default_factory=set)  # other domains that exist (DescribeDomain)

    def tick(self) -> None:
        """Deletions in progress advance by one poll; finished ones disappear (apps stay, as Deleted)."""
        for app in self.apps.values():
            if app.status == "Deleting":
                app.deleting_for += 1
                if app.deleting_for >= app.polls_to_delete:
                    app.status = "Deleted"
        for items in (self.spaces, self.profiles):
            for name, item in list(items.items()):
                if item.status == "Deleting":
                    item.deleting_for += 1
                    if item.deleting_for >= item.polls_to_delete:
                        del items[name]

    # --- the API ---------------------------------------------------------------------------------------

    def _check(self, operation: str, params: dict[str, Any]) -> None:
        if operation in self.throttle:
            self.throttle.discard(operation)
            raise FakeError("ThrottlingException", "Rate exceeded")
        if params.get("DomainId", params.get("DomainIdEquals")) != self.domain_id or self.domain is None:
            raise FakeError("ResourceNotFound", f"Domain {params.get('DomainId')} does not exist")

    def _page(self, params: dict[str, Any], items: list[dict[str, Any]], key: str) -> dict[str, Any]:
        start = int(params.get("NextToken", "0"))
        page: dict[str, Any] = {key: items[start : start + self.page_size]}
        if start + self.page_size < len(items):
            page["NextToken"] = str(start + self.page_size)
        return page

    def list_apps(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.domain is None:
            return {"Apps": []}  # SageMaker lists nothing for a domain it no longer knows
        self._check("ListApps", params)
        apps = [
            {
                "DomainId": self.domain_id,
                owner_kind: owner,
                "AppType": app_type,
                "AppName": name,
                "Status": app.status,
            }
            for (owner_kind, owner, app_type, name), app in sorted(self.apps.items())
        ]
        return self._page(params, apps, "Apps")

    def _app(self, params: dict[str, Any]) -> Item:
        owner_kind = "SpaceName" if "SpaceName" in params else "UserProfileName"
        key = (owner_kind, params[owner_kind], params["AppType"], params["AppName"])
        if key not in self.apps or self.apps[key].status == "Deleted":
            raise FakeError("ResourceNotFound", f"App {params['AppName']} does not exist")
        return self.apps[key]

    def delete_app(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check("DeleteApp", params)
        app = self._app(params)
        if app.status in {"Deleting", "Pending"}:
            raise FakeError("ResourceInUse", f"App {params['AppName']} is {app.status}")
        app.status = "Deleting"
        return {}

    def describe_app(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check("DescribeApp", params)
        app = self._app(params)
        described: dict[str, Any] = {"AppName": params["AppName"], "Status": app.status}
        if app.failure_reason:
            described["FailureReason"] = app.failure_reason
        return described

    def _delete_owned(self, items: dict[str, Item], name: str, kind: str, owner_key: str) -> dict[str, Any]:
        if name not in items:
            raise FakeError("ResourceNotFound", f"{kind} {name} does not exist")
        live_apps = [
            key for key, app in self.apps.items() if key[:2] == (owner_key, name) and app.status != "Deleted"
        ]
        if live_apps:
            raise FakeError(
                "ResourceInUse", f"Unable to delete {kind} {name} because App(s) are associated with it"
            )
        if items[name].status != "Deleting":
            items[name].status = "Deleting"
        return {}

    def list_spaces(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check("ListSpaces", params)
        spaces = [
            {"DomainId": self.domain_id, "SpaceName": name, "Status": item.status}
            for name, item in sorted(self.spaces.items())
        ]
        return self._page(params, spaces, "Spaces")

    def delete_space(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check("DeleteSpace", params)
        return self._delete_owned(self.spaces, params["SpaceName"], "Space", "SpaceName")

    def list_user_profiles(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check("ListUserProfiles", params)
        profiles = [
            {"DomainId": self.domain_id, "UserProfileName": name, "Status": item.status}
            for name, item in sorted(self.profiles.items())
        ]
        return self._page(params, profiles, "UserProfiles")

    def delete_user_profile(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check("DeleteUserProfile", params)
        if self.spaces:
            raise FakeError("ResourceInUse", "Unable to delete the user profile: it owns spaces")
        return self._delete_owned(self.profiles, params["UserProfileName"], "UserProfile", "UserProfileName")

    def describe_domain(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["DomainId"] in self.other_domain_ids:
            return {"DomainId": params["DomainId"], "Status": "InService"}
        self._check("DescribeDomain", params)
        return {"DomainId": self.domain_id, "DomainArn": self.domain_arn, "Status": "InService"}

    def answers(self) -> dict[str, Answer]:
        return {
            "ListApps": self.list_apps,
            "DeleteApp": self.delete_app,
            "DescribeApp": self.describe_app,
            "ListSpaces": self.list_spaces,
            "DeleteSpace": self.delete_space,
            "ListUserProfiles": self.list_user_profiles,
            "DeleteUserProfile": self.delete_user_profile,
            "DescribeDomain": self.describe_domain,
        }


def stack_status(status: str) -> dict[str, Answer]:
    """CloudFormation's DescribeStacks for a stack in `status`."""

    def describe_stacks(params: dict[str, Any]) -> dict[str, Any]:
        return {
            "Stacks": [
                {
                    "StackName": "dev-Studio-research",
                    "StackId": params["StackName"],
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": status,
                }
            ]
        }

    return {"DescribeStacks": describe_stacks}


def polls(
    step: Callable[[], dict[str, Any]], studio: FakeStudio, limit: int = 50
) -> Iterator[dict[str, Any]]:
    """Poll until complete (or `limit` polls), the fake's time advancing between polls."""
    for _ in range(limit):
        result = step()
        yield result
        if result["IsComplete"]:
            return
        studio.tick()
