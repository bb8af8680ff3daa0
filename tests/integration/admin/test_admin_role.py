"""The admin role: kept with the user in the accounts store; existing and ordinary users are not admins."""

from __future__ import annotations

from redis.asyncio import Redis

from api.accounts import Accounts


async def test_a_user_added_as_admin_is_an_admin_and_an_ordinary_user_is_not(redis: Redis) -> None:
    accounts = Accounts(redis)
    owner = await accounts.add_user("owner", admin=True)
    guest = await accounts.add_user("guest")
    assert await accounts.is_admin(owner.user_id)
    assert not await accounts.is_admin(guest.user_id)


async def test_an_existing_user_granted_admin_becomes_one_and_granting_twice_changes_nothing(redis: Redis) -> None:
    accounts = Accounts(redis)
    guest = await accounts.add_user("guest")
    await accounts.grant_admin(guest.user_id)
    await accounts.grant_admin(guest.user_id)
    assert await accounts.is_admin(guest.user_id)
    assert await redis.scard("pbt:admins") == 1
