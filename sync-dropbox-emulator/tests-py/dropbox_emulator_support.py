"""Shared data of the emulator fidelity suite. A uniquely named module (not `conftest`), so
that test modules can import it even when other `tests-py` directories have a conftest too."""

# Members beyond the first page (tests list with limit=10).
SEED = {
    "team_name": "Fidelity Team",
    "members": [
        {"email": "admin@fidelity.example.com", "given_name": "Ada", "surname": "Admin", "is_admin": True},
        {"email": "invited@fidelity.example.com", "given_name": "Ivy", "surname": "Invited", "status": "invited"},
        {"email": "suspended@fidelity.example.com", "given_name": "Sue", "surname": "Suspended", "status": "suspended"},
        {"email": "gone@fidelity.example.com", "given_name": "Gus", "surname": "Gone", "status": "removed"},
    ]
    + [
        {
            "email": f"user{i:02}@fidelity.example.com",
            "given_name": f"User{i:02}",
            "surname": "Seeded",
            "external_id": f"ext-{i:02}",
        }
        for i in range(22)
    ],
    "groups": [
        {"name": "Seeded Group", "external_id": "grp-seeded", "members": ["user00@fidelity.example.com"]},
        {"name": "Everyone", "management_type": "system_managed", "members": []},
    ],
}

# Members listed without include_removed: everyone but the removed one.
SEEDED_ON_TEAM = len(SEED["members"]) - 1
