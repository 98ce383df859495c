"""The tenant the fidelity suite seeds (users: one disabled, one guest, one without mail, one
synced from AD; nested groups; an enterprise app with assignments; a soft-deleted user), and
the SDK client pointed at the emulator. (Not in conftest.py: another suite has a conftest
module too, and `from conftest import` could pick the wrong one.)"""

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


def make_client(emulator, secret=SECRET):
    """A GraphServiceClient on the emulator, authenticated by ClientSecretCredential."""
    import ssl

    import httpx
    from azure.identity.aio import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    credential = ClientSecretCredential(
        TENANT, CLIENT_ID, secret,
        authority=emulator.base_url,
        disable_instance_discovery=True,
        connection_verify=emulator.ca_file,
    )
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=[emulator.base_url + "/.default"], allowed_hosts=[emulator.host],
    )
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=emulator.ca_file), trust_env=False))
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = emulator.base_url + "/v1.0"
    return GraphServiceClient(request_adapter=adapter), credential
