"""Microsoft's generated Graph client reads the emulator: if the SDK cannot parse a response
(collections, paging, @odata.type discriminators, $select, errors), the emulator is wrong."""

import asyncio

import pytest

from graph_emulator_support import SEED, USERS, make_client, oid


def run(coro):
    return asyncio.run(coro)


async def _all_pages(client, first, parsable):
    from msgraph_core.tasks.page_iterator import PageIterator

    items = []

    def keep(item):
        items.append(item)
        return True

    del parsable  # the iterator builds further pages with the first page's own type
    iterator = PageIterator(first, client.request_adapter)
    await iterator.iterate(keep)
    return items


def test_users_with_select_and_paging(emulator):
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.models.user_collection_response import UserCollectionResponse
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    async def go():
        client, credential = make_client(emulator)
        async with credential:
            params = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
                select=["id", "displayName", "mail", "userPrincipalName", "accountEnabled", "userType",
                        "onPremisesImmutableId"],
                top=999,
            )
            first = await client.users.get(request_configuration=RequestConfiguration(query_parameters=params))
            assert first.odata_next_link, "7 users in pages of 3 must page"
            assert len(first.value) == 3, "the server chose the page size"
            return await _all_pages(client, first, UserCollectionResponse.create_from_discriminator_value)

    users = run(go())
    assert [u.id for u in users] == [u["id"] for u in USERS]
    by_name = {u.display_name: u for u in users}
    assert by_name["Cat"].account_enabled is False
    assert by_name["Ann"].account_enabled is True
    assert by_name["Bob"].mail is None
    assert by_name["Dan"].user_type == "Guest"
    assert by_name["Ann"].on_premises_immutable_id == "kZj7niGua0Gz92mIDCl+Tw=="
    # Unselected properties are absent, so the SDK leaves them unset.
    assert by_name["Ann"].given_name is None and by_name["Ann"].surname is None
    calls = emulator.calls()
    assert calls["users"] >= 3 and calls["token"] >= 1, calls


def test_default_properties_without_select(emulator):
    async def go():
        client, credential = make_client(emulator)
        async with credential:
            return await client.users.by_user_id(oid(1)).get()

    ann = run(go())
    assert ann.given_name == "Ann" and ann.surname == "Example"
    assert ann.account_enabled is None, "accountEnabled is not in Graph's default set"


def test_groups_and_members_with_odata_types(emulator):
    from msgraph.generated.models.directory_object_collection_response import DirectoryObjectCollectionResponse
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.group_collection_response import GroupCollectionResponse
    from msgraph.generated.models.user import User

    async def go():
        client, credential = make_client(emulator)
        async with credential:
            groups = await _all_pages(client, await client.groups.get(),
                                      GroupCollectionResponse.create_from_discriminator_value)
            first = await client.groups.by_group_id(oid(100)).members.get()
            members = await _all_pages(client, first, DirectoryObjectCollectionResponse.create_from_discriminator_value)
            return groups, members

    groups, members = run(go())
    assert {g.display_name for g in groups} == {"Dropbox Users", "Engineering", "Ops"}
    root = next(g for g in groups if g.id == oid(100))
    assert root.security_enabled is True
    users = [m for m in members if isinstance(m, User)]
    nested = [m for m in members if isinstance(m, Group)]
    assert [u.id for u in users] == [oid(1), oid(2), oid(3), oid(4)]
    assert [g.id for g in nested] == [oid(101)], "a nested group is parsed as a Group"
    assert nested[0].display_name == "Engineering"


def test_deleted_users_and_app_role_assignments(emulator):
    async def go():
        client, credential = make_client(emulator)
        async with credential:
            deleted = await client.directory.deleted_items.graph_user.get()
            assigned = await client.service_principals.by_service_principal_id(oid(200)).app_role_assigned_to.get()
            return deleted, assigned

    deleted, assigned = run(go())
    assert [u.id for u in deleted.value] == [oid(9)]
    assert deleted.value[0].deleted_date_time.year == 2026, "parsed as a datetime"
    assert [(str(a.principal_id), a.principal_type) for a in assigned.value] == [
        (SEED["service_principals"][0]["assigned"][0], "User"),
        (oid(101), "Group"),
    ]


def test_graph_errors_parse_as_odata_errors(emulator):
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    async def go():
        client, credential = make_client(emulator)
        async with credential:
            await client.users.by_user_id("00000000-0000-4000-8000-000000099999").get()

    with pytest.raises(ODataError) as raised:
        run(go())
    assert raised.value.error.code == "Request_ResourceNotFound"
    assert raised.value.response_status_code == 404


def test_a_wrong_secret_is_invalid_client(emulator):
    from azure.core.exceptions import ClientAuthenticationError

    async def go():
        client, credential = make_client(emulator, secret="wrong")
        async with credential:
            await client.users.get()

    with pytest.raises(ClientAuthenticationError) as raised:
        run(go())
    assert "AADSTS7000215" in str(raised.value)
