"""Plan use cases: versioned terms, checked against the meters and the pricing rules. The caller owns the
transaction."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id
from tally_runtime.pages import split_page

from billing.catalog import repository as catalog_repository
from billing.plans import repository
from billing.plans.models import PlanVersion
from billing.plans.schemas import Charge, PlanIn, PlanVersionIn
from billing.rating import pricing


class PlanExists(Exception):
    pass


class UnknownPlan(Exception):
    pass


class InvalidPlan(Exception):
    """Every reason the terms cannot be used, as [{"field", "reason"}]."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} invalid fields")
        self.errors = errors


def rating_charge(charge: Charge) -> pricing.Charge:
    return pricing.Charge(
        meter=charge.meter,
        model=charge.model,
        unit_price=charge.unit_price,
        tiers=tuple(pricing.Tier(t.up_to, t.unit_price, t.flat_fee_minor) for t in charge.tiers or ()),
        package_size=charge.package_size,
        package_price_minor=charge.package_price_minor,
        flat_fee_minor=charge.flat_fee_minor,
        included_units=charge.included_units,
    )


def plan_charges(plan: PlanVersion) -> list[pricing.Charge]:
    """The version's stored charges, ready to rate."""
    return [rating_charge(Charge.model_validate(stored)) for stored in plan.charges]


async def check_terms(session: AsyncSession, terms: PlanVersionIn) -> None:
    """Raises InvalidPlan naming each charge or limit that refers to no meter or that cannot be priced."""
    metered = [charge.meter for charge in terms.charges]
    limited = [name for name, value in terms.entitlements.items() if not isinstance(value, bool)]
    meters = await catalog_repository.meter_keys(session, [*metered, *limited])
    errors: list[dict[str, Any]] = []
    priced: set[str] = set()
    for index, charge in enumerate(terms.charges):
        field = f"body.charges.{index}."
        if charge.meter not in meters:
            errors.append({"field": field + "meter", "reason": f"no meter has the key {charge.meter!r}"})
        if charge.meter in priced:
            errors.append({"field": field + "meter", "reason": "another charge of this plan prices this meter"})
        priced.add(charge.meter)
        errors += [
            {"field": field + name, "reason": reason} for name, reason in pricing.validate_charge(rating_charge(charge))
        ]
    errors += [
        {"field": f"body.entitlements.{name}", "reason": f"a limit needs a meter with the key {name!r}"}
        for name in limited
        if name not in meters
    ]
    if errors:
        raise InvalidPlan(errors)


def _version(key: str, number: int, terms: PlanVersionIn) -> PlanVersion:
    stored = terms.model_dump(mode="json", exclude={"key"})
    return PlanVersion(id=new_id("pln"), key=key, version=number, **stored)


async def create_plan(session: AsyncSession, data: PlanIn) -> PlanVersion:
    await check_terms(session, data)
    plan = _version(data.key, 1, data)
    if not await repository.insert_version(session, plan):
        raise PlanExists(data.key)
    return await _stored(session, data.key, 1)


async def change_plan(session: AsyncSession, key: str, terms: PlanVersionIn) -> PlanVersion:
    """A new version of the plan; subscriptions stay on the version they have until they are moved."""
    await repository.lock_plan(session, key)
    latest = await repository.latest_version(session, key)
    if latest is None:
        raise UnknownPlan(key)
    await check_terms(session, terms)
    number = latest.version + 1
    inserted = await repository.insert_version(session, _version(key, number, terms))
    assert inserted, "the plan lock makes the next version free"
    return await _stored(session, key, number)


async def _stored(session: AsyncSession, key: str, number: int) -> PlanVersion:
    plan = await repository.version_of(session, key, number)
    assert plan is not None
    return plan


async def list_plans(session: AsyncSession, after: str | None, limit: int) -> tuple[Sequence[PlanVersion], str | None]:
    return split_page(await repository.latest_versions(session, after, limit + 1), limit, lambda plan: plan.key)
