"""Dropbox's own Python SDK against the emulator: every response must decode, every error
must come back as the SDK's exception with the spec's tag."""

import datetime
import time
import uuid

import pytest
import requests

from dropbox_emulator_support import SEED, SEEDED_ON_TEAM


def unique_email(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}@fidelity.example.com"


def by_email(email):
    import dropbox

    return dropbox.team.UserSelectorArg.email(email)


def poll(fetch, job_id, attempts=10):
    """Polls an async job until it is no longer in progress; returns the final result."""
    for _ in range(attempts):
        result = fetch(job_id)
        if not result.is_in_progress():
            return result
    pytest.fail(f"job {job_id} still in progress after {attempts} polls")


def add_members(team, dropbox_sdk, emails, force_async=False):
    args = [dropbox_sdk.team.MemberAddV2Arg(e, member_given_name="New", member_surname="Member") for e in emails]
    launch = team.team_members_add_v2(args, force_async=force_async)
    if launch.is_async_job_id():
        return poll(team.team_members_add_job_status_get_v2, launch.get_async_job_id()).get_complete()
    return launch.get_complete()


def test_get_info_decodes_with_full_policies(team):
    info = team.team_get_info()
    assert info.name == "Fidelity Team"
    assert info.team_id.startswith("dbtid:")
    assert info.num_provisioned_users >= SEEDED_ON_TEAM
    assert info.policies.emm_state.is_disabled()
    assert info.policies.sharing.group_creation_policy.is_admins_only()


def test_refresh_path_is_used(team, emulator):
    before = emulator.calls().get("oauth2/token", 0)
    team.team_get_info()
    assert emulator.calls().get("oauth2/token", 0) > before


def test_members_list_paginates_with_cursor(team):
    page = team.team_members_list_v2(limit=10)
    seen = [m.profile.email for m in page.members]
    assert len(page.members) == 10 and page.has_more
    while page.has_more:
        page = team.team_members_list_continue_v2(page.cursor)
        assert len(page.members) <= 10
        seen += [m.profile.email for m in page.members]
    assert len(seen) == len(set(seen))
    seeded = {m["email"] for m in SEED["members"] if m.get("status") != "removed"}
    assert seeded <= set(seen)
    assert "gone@fidelity.example.com" not in seen


def test_members_list_profiles_have_every_field(team):
    members = {m.profile.email: m for m in team.team_members_list_v2(limit=1000, include_removed=True).members}
    admin = members["admin@fidelity.example.com"]
    assert admin.profile.status.is_active()
    assert admin.profile.name.display_name == "Ada Admin"
    assert admin.profile.name.abbreviated_name == "AA"
    assert admin.profile.member_folder_id and admin.profile.root_folder_id
    assert admin.roles and admin.roles[0].role_id.startswith("pid_dbtmr:")
    assert isinstance(admin.profile.joined_on, datetime.datetime)
    assert members["invited@fidelity.example.com"].profile.status.is_invited()
    assert members["suspended@fidelity.example.com"].profile.status.is_suspended()
    removed = members["gone@fidelity.example.com"].profile.status
    assert removed.is_removed() and removed.get_removed().is_recoverable
    grouped = members["user00@fidelity.example.com"].profile
    assert len(grouped.groups) == 1 and grouped.groups[0].startswith("g:")
    assert grouped.external_id == "ext-00"


def test_members_list_continue_rejects_bad_cursor(team, dropbox_sdk):
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_list_continue_v2("bm90IGEgY3Vyc29y")
    assert err.value.error.is_invalid_cursor()


def test_get_info_v2_found_and_not_found(team, dropbox_sdk):
    sel = dropbox_sdk.team.UserSelectorArg
    result = team.team_members_get_info_v2(
        [sel.email("user01@fidelity.example.com"), sel.external_id("ext-02"), sel.email("nobody@fidelity.example.com")]
    )
    items = result.members_info
    assert items[0].is_member_info() and items[0].get_member_info().profile.email == "user01@fidelity.example.com"
    assert items[1].get_member_info().profile.external_id == "ext-02"
    assert items[2].is_id_not_found() and items[2].get_id_not_found() == "nobody@fidelity.example.com"


def test_add_v2_async_with_job_polling(team, dropbox_sdk, emulator):
    emails = [unique_email("async") for _ in range(3)]
    before = emulator.calls().get("team/members/add/job_status/get_v2", 0)
    results = add_members(team, dropbox_sdk, emails, force_async=True)
    # One in_progress poll, then complete.
    assert emulator.calls()["team/members/add/job_status/get_v2"] - before == 2
    assert all(r.is_success() for r in results)
    profiles = [r.get_success().profile for r in results]
    assert [p.email for p in profiles] == emails
    assert all(p.status.is_invited() and p.team_member_id.startswith("dbmid:") for p in profiles)


def test_add_v2_sync_and_per_member_failures(team, dropbox_sdk):
    email = unique_email("sync")
    launch = team.team_members_add_v2([dropbox_sdk.team.MemberAddV2Arg(email)])
    assert launch.is_complete() and launch.get_complete()[0].is_success()
    args = [
        dropbox_sdk.team.MemberAddV2Arg(email),
        dropbox_sdk.team.MemberAddV2Arg(unique_email("dupext"), member_external_id="ext-01"),
        dropbox_sdk.team.MemberAddV2Arg("gone@fidelity.example.com"),
    ]
    results = team.team_members_add_v2(args).get_complete()
    assert results[0].is_user_already_on_team() and results[0].get_user_already_on_team() == email
    assert results[1].is_duplicate_external_member_id()
    assert results[2].is_user_already_on_team()


def test_add_v2_rejects_more_than_20(team, dropbox_sdk):
    args = [dropbox_sdk.team.MemberAddV2Arg(unique_email("many")) for _ in range(21)]
    with pytest.raises(dropbox_sdk.exceptions.BadInputError):
        team.team_members_add_v2(args)


def test_set_profile_v2_and_its_errors(team, dropbox_sdk):
    result = team.team_members_set_profile_v2(
        by_email("user03@fidelity.example.com"), new_given_name="Renamed", new_external_id="ext-03-new"
    )
    profile = result.member_info.profile
    assert profile.name.given_name == "Renamed" and profile.external_id == "ext-03-new"
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_set_profile_v2(by_email("user04@fidelity.example.com"), new_external_id="ext-05")
    assert err.value.error.is_external_id_used_by_other_user()
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_set_profile_v2(by_email("user04@fidelity.example.com"))
    assert err.value.error.is_no_new_data_specified()
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_set_profile_v2(by_email("nobody@fidelity.example.com"), new_surname="X")
    assert err.value.error.is_user_not_found()


def test_suspend_unsuspend_and_invited_cannot_be_suspended(team, dropbox_sdk):
    user = by_email("user06@fidelity.example.com")
    assert team.team_members_suspend(user) is None
    info = team.team_members_get_info_v2([user]).members_info[0].get_member_info()
    assert info.profile.status.is_suspended() and info.profile.suspended_on is not None
    assert team.team_members_unsuspend(user) is None
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_unsuspend(user)
    assert err.value.error.is_unsuspend_non_suspended_member()
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_suspend(by_email("invited@fidelity.example.com"), wipe_data=False)
    assert err.value.error.is_suspend_inactive_user()
    assert "suspend_inactive_user" in str(err.value.user_message_text or err.value)
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_suspend(by_email("admin@fidelity.example.com"))
    assert err.value.error.is_suspend_last_admin()


def test_remove_with_job_then_recover(team, dropbox_sdk):
    user = by_email("user07@fidelity.example.com")
    launch = team.team_members_remove(user, wipe_data=True)
    assert launch.is_async_job_id()
    assert poll(team.team_members_remove_job_status_get, launch.get_async_job_id()).is_complete()
    status = team.team_members_get_info_v2([user]).members_info[0].get_member_info().profile.status
    assert status.is_removed() and status.get_removed().is_recoverable
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_suspend(user)
    assert err.value.error.is_user_not_in_team()
    assert team.team_members_recover(user) is None
    status = team.team_members_get_info_v2([user]).members_info[0].get_member_info().profile.status
    assert status.is_active()
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_recover(user)
    assert err.value.error.is_user_unrecoverable()
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_remove_job_status_get("dbjid:unknown")
    assert err.value.error.is_invalid_async_job_id()


def test_remove_option_conflicts(team, dropbox_sdk):
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_remove(by_email("user08@fidelity.example.com"), wipe_data=True, keep_account=True)
    assert err.value.error.is_cannot_keep_account_and_delete_data()
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_members_remove(by_email("admin@fidelity.example.com"))
    assert err.value.error.is_remove_last_admin()


def test_groups_lifecycle(team, dropbox_sdk):
    t = dropbox_sdk.team
    name = f"Project {uuid.uuid4().hex[:6]}"
    created = team.team_groups_create(name, group_external_id="ext-" + name)
    assert created.group_name == name and created.group_id.startswith("g:")
    assert created.group_management_type.is_company_managed()
    assert created.member_count == 0 and created.created > 0
    group = t.GroupSelector.group_id(created.group_id)

    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_groups_create(name.upper())
    assert err.value.error.is_group_name_already_used()

    members = [t.MemberAccess(by_email(f"user1{i}@fidelity.example.com"), t.GroupAccessType.member) for i in range(3)]
    change = team.team_groups_members_add(group, members)
    assert change.async_job_id == " "
    assert change.group_info.member_count == 3 and len(change.group_info.members) == 3

    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_groups_members_add(group, members[:1])
    assert err.value.error.is_duplicate_user()
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_groups_members_add(group, [t.MemberAccess(by_email("ghost@fidelity.example.com"), t.GroupAccessType.member)])
    assert err.value.error.is_users_not_found() and err.value.error.get_users_not_found() == ["ghost@fidelity.example.com"]
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_groups_members_add(group, [t.MemberAccess(by_email("user19@fidelity.example.com"), t.GroupAccessType.owner)])
    assert err.value.error.is_user_cannot_be_manager_of_company_managed_group()

    page = team.team_groups_members_list(group, limit=2)
    listed = [m.profile.email for m in page.members]
    assert page.has_more
    while page.has_more:
        page = team.team_groups_members_list_continue(page.cursor)
        listed += [m.profile.email for m in page.members]
    assert sorted(listed) == [f"user1{i}@fidelity.example.com" for i in range(3)]
    assert all(m.access_type.is_member() for m in page.members)

    change = team.team_groups_members_remove(group, [by_email("user10@fidelity.example.com")], return_members=False)
    assert change.group_info.member_count == 2 and change.group_info.members is None
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_groups_members_remove(group, [by_email("user10@fidelity.example.com")])
    assert err.value.error.is_member_not_in_group()

    updated = team.team_groups_update(group, new_group_name=name + " renamed", new_group_management_type=dropbox_sdk.team_common.GroupManagementType.user_managed)
    assert updated.group_name == name + " renamed" and updated.group_management_type.is_user_managed()

    launch = team.team_groups_delete(group)
    assert poll(team.team_groups_job_status_get, launch.get_async_job_id()).is_complete()
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_groups_delete(group)
    assert err.value.error.is_group_already_deleted()
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_groups_members_list(group)
    assert err.value.error.is_group_not_found()


def test_groups_list_continue_and_system_managed(team, dropbox_sdk):
    t = dropbox_sdk.team
    for i in range(3):
        team.team_groups_create(f"Listing {uuid.uuid4().hex[:6]} {i}")
    page = team.team_groups_list(limit=2)
    names = [g.group_name for g in page.groups]
    while page.has_more:
        page = team.team_groups_list_continue(page.cursor)
        names += [g.group_name for g in page.groups]
    assert "Seeded Group" in names and "Everyone" in names
    everyone = t.GroupSelector.group_id(
        next(g.group_id for g in team.team_groups_list().groups if g.group_name == "Everyone"))
    with pytest.raises(dropbox_sdk.exceptions.ApiError) as err:
        team.team_groups_members_add(everyone, [t.MemberAccess(by_email("user01@fidelity.example.com"), t.GroupAccessType.member)])
    assert err.value.error.is_system_managed_group_disallowed()
    seeded = team.team_groups_members_list(t.GroupSelector.group_external_id("grp-seeded"))
    assert [m.profile.email for m in seeded.members] == ["user00@fidelity.example.com"]
    infos = team.team_groups_get_info(t.GroupsSelector.group_external_ids(["grp-seeded", "no-such-group"]))
    assert infos[0].is_group_info()
    info = infos[0].get_group_info()
    assert info.group_name == "Seeded Group" and [m.profile.email for m in info.members] == ["user00@fidelity.example.com"]
    assert infos[1].is_id_not_found() and infos[1].get_id_not_found() == "no-such-group"


def test_rate_limit_is_the_sdks_rate_limit_error(team, dropbox_sdk, emulator):
    emulator.set_faults({"rate_limit": {"max_calls": 0, "window_ms": 5000}})
    with pytest.raises(dropbox_sdk.exceptions.RateLimitError) as err:
        team.team_get_info()
    assert err.value.backoff is not None and 1 <= err.value.backoff <= 5
    assert err.value.error.reason.is_too_many_requests()


def test_server_error_is_the_sdks_internal_server_error(team, dropbox_sdk, emulator):
    emulator.set_faults({"server_error_rate": 1.0})
    with pytest.raises(dropbox_sdk.exceptions.InternalServerError) as err:
        team.team_get_info()
    assert err.value.status_code == 500


def test_missing_scope_is_an_auth_error(emulator, dropbox_sdk):
    token = emulator.admin("POST", "token", {"scopes": ["members.read"]})["access_token"]
    client = dropbox_sdk.DropboxTeam(oauth2_access_token=token, ca_certs=emulator.ca_file)
    assert client.team_members_list_v2(limit=1).members
    with pytest.raises(dropbox_sdk.exceptions.AuthError) as err:
        client.team_groups_create("Not allowed")
    assert err.value.error.is_missing_scope()
    assert err.value.error.get_missing_scope().required_scope == "groups.write"


def test_expired_token_is_refreshed_and_retried(emulator, dropbox_sdk):
    # Mint a token through the real endpoint, let it expire (TTL 2 s), then hand it to a client
    # that believes it is fresh: the emulator's 401 expired_access_token must make the SDK
    # refresh and retry.
    r = requests.post(emulator.base_url + "/oauth2/token", verify=emulator.ca_file, timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": emulator.info["refresh_token"],
        "client_id": emulator.info["app_key"], "client_secret": emulator.info["app_secret"]})
    r.raise_for_status()
    assert r.headers["content-type"] == "application/json"
    stale = r.json()["access_token"]
    time.sleep(2.2)
    client = dropbox_sdk.DropboxTeam(
        oauth2_access_token=stale,
        oauth2_access_token_expiration=datetime.datetime.utcnow() + datetime.timedelta(hours=1),
        oauth2_refresh_token=emulator.info["refresh_token"],
        app_key=emulator.info["app_key"], app_secret=emulator.info["app_secret"],
        ca_certs=emulator.ca_file)
    before = emulator.calls().get("oauth2/token", 0)
    assert client.team_get_info().name == "Fidelity Team"
    assert emulator.calls()["oauth2/token"] == before + 1


def test_bad_refresh_token_is_an_auth_error(emulator, dropbox_sdk):
    client = dropbox_sdk.DropboxTeam(
        oauth2_refresh_token="not-a-refresh-token", app_key=emulator.info["app_key"],
        app_secret=emulator.info["app_secret"], ca_certs=emulator.ca_file)
    with pytest.raises(dropbox_sdk.exceptions.AuthError) as err:
        client.team_get_info()
    assert err.value.error.is_invalid_access_token()


def test_authorization_code_flow_with_the_sdk(emulator, dropbox_sdk):
    code = emulator.admin("POST", "authorization_code")["code"]
    flow = dropbox_sdk.DropboxOAuth2FlowNoRedirect(
        emulator.info["app_key"], consumer_secret=emulator.info["app_secret"], token_access_type="offline")
    flow.requests_session.verify = emulator.ca_file
    result = flow.finish(code)
    assert result.access_token and result.refresh_token
    # The SDK puts team_id (preferred over account_id) into account_id.
    assert result.account_id == emulator.state()["team_id"]
    assert result.user_id
    assert "members.read" in result.scope
    client = dropbox_sdk.DropboxTeam(oauth2_access_token=result.access_token, ca_certs=emulator.ca_file)
    assert client.team_get_info().team_id == result.account_id


def test_sdk_waits_retry_after_and_succeeds(emulator, dropbox_sdk):
    client = dropbox_sdk.DropboxTeam(
        oauth2_refresh_token=emulator.info["refresh_token"], app_key=emulator.info["app_key"],
        app_secret=emulator.info["app_secret"], ca_certs=emulator.ca_file, max_retries_on_rate_limit=3)
    client.team_get_info()  # refreshes the token before the window opens
    emulator.set_faults({"rate_limit": {"max_calls": 1, "window_ms": 1000}})
    try:
        before = emulator.calls()["team/get_info"]
        client.team_get_info()
        assert client.team_get_info().name == "Fidelity Team"  # 429, waits Retry-After, retries
        assert emulator.calls()["team/get_info"] - before >= 3
    finally:
        emulator.set_faults()


def test_dropped_connection_surfaces_as_a_transport_error(team, emulator):
    team.team_get_info()
    emulator.set_faults({"drop_connection_rate": 1.0})
    with pytest.raises(requests.exceptions.RequestException):
        team.team_get_info()
