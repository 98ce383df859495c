"""The tenant the fidelity suite seeds: users (one disabled, one guest, one without mail, one
synced from AD), nested groups, an enterprise app with assignments, a soft-deleted user."""

TENANT = "7e1ea5e0-0000-4000-8000-00000000c0de"
CLIENT_ID = "a99c11e0-0000-4000-8000-000000000001"
SECRET = "s3cr3t~Value.of-the-pytest-app"


def oid(n):
    return f"00000000-0000-4000-8000-{n:012d}"


def _user(n, name, **extra):
    user = {
        "id": oid(n),
        "displayName": name.title(),
        "givenName": name.title(),
        "surname": "Example",
        "mail": f"{name}@contoso.com",
        "userPrincipalName": f"{name}@contoso.com",
        "accountEnabled": True,
        "userType": "Member",
        "businessPhones": [],
    }
    user.update(extra)
    return user


USERS = [
    _user(1, "ann", onPremisesImmutableId="kZj7niGua0Gz92mIDCl+Tw=="),
    _user(2, "bob", mail=None),
    _user(3, "cat", accountEnabled=False),
    _user(4, "dan", userType="Guest", userPrincipalName="dan_partner.example#EXT#@contoso.onmicrosoft.com"),
    _user(5, "eve"),
    _user(6, "fay"),
    _user(7, "gus"),
]

SEED = {
    "tenant_id": TENANT,
    "apps": [{"client_id": CLIENT_ID, "client_secret": SECRET,
              "roles": ["User.Read.All", "GroupMember.Read.All", "Application.Read.All"]}],
    "users": USERS,
    "groups": [
        {"id": oid(100), "displayName": "Dropbox Users", "members": [oid(1), oid(2), oid(3), oid(4), oid(101)],
         "properties": {"securityEnabled": True, "mailEnabled": False, "groupTypes": []}},
        {"id": oid(101), "displayName": "Engineering", "members": [oid(5), oid(6), oid(102)]},
        {"id": oid(102), "displayName": "Ops", "members": [oid(7)]},
    ],
    "service_principals": [{"id": oid(200), "displayName": "Dropbox", "assigned": [oid(1), oid(101)]}],
    "deleted_users": [dict(_user(9, "hal"), deletedDateTime="2026-11-30T10:00:00Z")],
}
