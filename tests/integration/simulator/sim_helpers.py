"""Shared data and helpers of the EBS WebApi simulator tests (imported by conftest and the tests)."""

from __future__ import annotations

from typing import Any

import requests

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"
SUB = {"SubscriptionID": "demo", "SubscriptionPassword": "DemoSub#2024", "BridgeID": "Demo_002"}
OTHER_SUB = {"SubscriptionID": "other", "SubscriptionPassword": "OtherSub#2024", "BridgeID": "Other_001"}
PASSWORDS = {
    "esmaster": "Esmaster#2024",
    "payroll": "Payroll#2024",
    "cloudsvc": "CloudSvc#2024",
    "backoffice": "Backoffice#2024",
    "former": "Former#2024x",
    "secure": "Secure#2024x",
    "othersvc": "OtherSvc#2024",
    "clerk": "Clerk#2024xx",
}

TEST_CONFIG = """
[WebApi]
Version = "1.9.16"
InstallationVersion = "4.0.36 - 2"

[[Subscriptions]]
SubscriptionID = "demo"
SubscriptionPassword = "DemoSub#2024"

[[Subscriptions.Bridges]]
BridgeID = "Demo_002"
DatabaseID = "DEMO"
CompanyID = "002"
CompanyName = "Δοκιμαστική Εταιρεία Α.Ε."
DefaultUserCredentials = { UserID = "cloudsvc", Password = "CloudSvc#2024", BranchID = "001", LangID = "el-GR" }
Branches = [
  { ID = "001", Name = "Κεντρικό" },
  { ID = "002", Name = "Υποκατάστημα Θεσσαλονίκης" },
  { ID = "ΑΘΗ", Name = "Κεντρικά Entersoft" },
]
Employees = [
  { Code = "1001", Name = "Γεώργιος Παπαδόπουλος" },
  { Code = "1002", Name = "Μαρία Κωνσταντίνου" },
]
CompanyParams = [{ ID = "CompanyTitle", GroupID = "General", Description = "Company title", Value = "Δοκιμαστική" }]

[[Subscriptions.Bridges]]
BridgeID = "Demo_003"
DatabaseID = "DEMO"
CompanyID = "003"
DefaultUserCredentials = { UserID = "cloudsvc", Password = "CloudSvc#2024", BranchID = "001" }
Branches = [{ ID = "001", Name = "Αθήνα" }]
Employees = [{ Code = "1001", Name = "Γεώργιος Παπαδόπουλος" }]

[[Subscriptions]]
SubscriptionID = "other"
SubscriptionPassword = "OtherSub#2024"

[[Subscriptions.Bridges]]
BridgeID = "Other_001"
DatabaseID = "OTHER"
CompanyID = "001"
DefaultUserCredentials = { UserID = "othersvc", Password = "OtherSvc#2024", BranchID = "001" }
Branches = [{ ID = "001", Name = "Κεντρικό" }]
Employees = [{ Code = "2001", Name = "Άλλος Εργαζόμενος" }]

[[Users]]
UserID = "esmaster"
Name = "Entersoft Master"
Password = "Esmaster#2024"
Administrator = true
Branches = ["001", "002", "ΑΘΗ"]
Payroll = true
Email = "esmaster@demo.example"
Bridges = ["Demo_002", "Demo_003"]

[[Users]]
UserID = "payroll"
Name = "Υπεύθυνος Μισθοδοσίας"
Password = "Payroll#2024"
Branches = ["001"]
Payroll = true
Bridges = ["Demo_002", "Demo_003"]

[[Users]]
UserID = "clerk"
Name = "Clerk"
Password = "Clerk#2024xx"
Branches = ["001"]
Bridges = ["Demo_002"]

[[Users]]
UserID = "cloudsvc"
Name = "Cloud Store service user"
Password = "CloudSvc#2024"
AllowAccessFromSource = ["WebApi"]
Branches = ["001"]
Payroll = true
Bridges = ["Demo_002", "Demo_003"]

[[Users]]
UserID = "backoffice"
Password = "Backoffice#2024"
AllowAccessFromSource = ["BackOffice"]
Branches = ["001"]

[[Users]]
UserID = "former"
Password = "Former#2024x"
Inactive = true
Branches = ["001"]

[[Users]]
UserID = "secure"
Password = "Secure#2024x"
TOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DP"
Branches = ["001"]

[[Users]]
UserID = "othersvc"
Password = "OtherSvc#2024"
Administrator = true
Branches = ["001"]
Payroll = true
Bridges = ["Other_001"]
"""


def login_body(user: str | None = None, *, sub: dict[str, str] | None = None, **model: Any) -> dict[str, Any]:
    """A Login body for a configured user (its password unless given), or the service-user body."""
    body: dict[str, Any] = dict(sub or SUB)
    if user is not None:
        body["Model"] = {"UserID": user, "Password": PASSWORDS.get(user, "x"), **model}
    return body


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a WebApi token."""
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: requests.Response, status: int, message_id: str) -> None:
    """Assert an EBS error answer: the status and exactly ``{MessageID, UserMessage, Messages: []}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"MessageID", "UserMessage", "Messages"}
    assert body["MessageID"] == message_id
    assert isinstance(body["UserMessage"], str) and body["UserMessage"]
    assert body["Messages"] == []
