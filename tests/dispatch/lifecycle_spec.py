"""The case workflow written out by hand, apart from `dispatch.lifecycle.table`, for the tests.

One line per (state, action): the roles allowed, whether a reason is required, and the resulting
state ("same": unchanged, "previous": back to where the case was before). Every (state, action)
not listed must be refused for every role.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.lifecycle.states import Action, CaseState, Role

SPEC_TEXT = """
# state               action              roles                              reason  to
reported              register            system operator                    -       registered
reported              reject              operator                           yes     rejected
reported              merge               system operator                    -       merged
reported              escalate            system operator                    yes     same
reported              deadline_revised    system                             yes     same
registered            dispatch            system operator                    -       dispatched
registered            merge               operator                           -       merged
registered            park                operator                           yes     parked
registered            escalate            system operator                    yes     same
registered            deadline_revised    system                             yes     same
dispatched            accept              grid_worker                        -       accepted
dispatched            volunteer_resolve   volunteer                          -       resolved
dispatched            return              grid_worker                        yes     returned
dispatched            reassign            system operator                    yes     dispatched
dispatched            park                operator                           yes     parked
dispatched            merge               operator                           -       merged
dispatched            escalate            system operator                    yes     same
dispatched            deadline_revised    system                             yes     same
accepted              arrive              grid_worker                        -       on_site
accepted              volunteer_resolve   volunteer                          -       resolved
accepted              resolve             grid_worker                        -       resolved
accepted              return              grid_worker                        yes     returned
accepted              request_extension   grid_worker                        yes     extension_requested
accepted              reassign            operator                           yes     dispatched
accepted              park                operator                           yes     parked
accepted              merge               operator                           -       merged
accepted              escalate            system operator                    yes     same
accepted              deadline_revised    system                             yes     same
on_site               resolve             grid_worker                        -       resolved
on_site               volunteer_resolve   volunteer                          -       resolved
on_site               return              grid_worker                        yes     returned
on_site               request_extension   grid_worker                        yes     extension_requested
on_site               reassign            operator                           yes     dispatched
on_site               park                operator                           yes     parked
on_site               merge               operator                           -       merged
on_site               escalate            system operator                    yes     same
on_site               deadline_revised    system                             yes     same
extension_requested   approve_extension   operator                           -       previous
extension_requested   deny_extension      operator                           yes     previous
extension_requested   escalate            system operator                    yes     same
extension_requested   deadline_revised    system                             yes     same
parked                unpark              operator                           -       previous
parked                escalate            system operator                    yes     same
parked                deadline_revised    system                             yes     same
resolved              verify              operator                           -       verified
resolved              verify_volunteer    grid_worker                        -       verified
resolved              fail_volunteer      grid_worker                        yes     rework
resolved              fail_verification   operator                           yes     rework
resolved              escalate            system operator                    yes     same
resolved              deadline_revised    system                             yes     same
verified              close               system operator                    -       closed
verified              reopen              operator agency citizen            yes     reopened
verified              escalate            system operator                    yes     same
verified              deadline_revised    system                             yes     same
closed                reopen              operator agency citizen            yes     reopened
rework                accept              grid_worker                        -       accepted
rework                return              grid_worker                        yes     returned
rework                reassign            system operator                    yes     dispatched
rework                merge               operator                           -       merged
rework                escalate            system operator                    yes     same
rework                deadline_revised    system                             yes     same
returned              dispatch            system operator                    -       dispatched
returned              merge               operator                           -       merged
returned              escalate            system operator                    yes     same
returned              deadline_revised    system                             yes     same
reopened              dispatch            system operator                    -       dispatched
reopened              merge               operator                           -       merged
reopened              escalate            system operator                    yes     same
reopened              deadline_revised    system                             yes     same
reported              raise_priority      system                             yes     same
registered            raise_priority      system                             yes     same
dispatched            raise_priority      system                             yes     same
accepted              raise_priority      system                             yes     same
on_site               raise_priority      system                             yes     same
extension_requested   raise_priority      system                             yes     same
parked                raise_priority      system                             yes     same
resolved              raise_priority      system                             yes     same
verified              raise_priority      system                             yes     same
rework                raise_priority      system                             yes     same
returned              raise_priority      system                             yes     same
reopened              raise_priority      system                             yes     same
reported              split               operator                           yes     same
registered            split               operator                           yes     same
dispatched            split               operator                           yes     same
accepted              split               operator                           yes     same
on_site               split               operator                           yes     same
extension_requested   split               operator                           yes     same
parked                split               operator                           yes     same
resolved              split               operator                           yes     same
verified              split               operator                           yes     same
rework                split               operator                           yes     same
returned              split               operator                           yes     same
reopened              split               operator                           yes     same
reported              source_update       agency system                      yes     same
registered            source_update       agency system                      yes     same
dispatched            source_update       agency system                      yes     same
accepted              source_update       agency system                      yes     same
on_site               source_update       agency system                      yes     same
extension_requested   source_update       agency system                      yes     same
parked                source_update       agency system                      yes     same
resolved              source_update       agency system                      yes     same
verified              source_update       agency system                      yes     same
rework                source_update       agency system                      yes     same
returned              source_update       agency system                      yes     same
reopened              source_update       agency system                      yes     same
reported              withdraw            agency system                      yes     closed
registered            withdraw            agency system                      yes     closed
dispatched            withdraw            agency system                      yes     closed
accepted              withdraw            agency system                      yes     closed
on_site               withdraw            agency system                      yes     closed
extension_requested   withdraw            agency system                      yes     closed
parked                withdraw            agency system                      yes     closed
resolved              withdraw            agency system                      yes     closed
verified              withdraw            agency system                      yes     closed
rework                withdraw            agency system                      yes     closed
returned              withdraw            agency system                      yes     closed
reopened              withdraw            agency system                      yes     closed
reported              expire              system                             yes     closed
registered            expire              system                             yes     closed
registered            void                operator                           yes     closed
dispatched            void                operator                           yes     closed
accepted              void                operator                           yes     closed
on_site               void                operator                           yes     closed
extension_requested   void                operator                           yes     closed
parked                void                operator                           yes     closed
resolved              void                operator                           yes     closed
verified              void                operator                           yes     closed
rework                void                operator                           yes     closed
returned              void                operator                           yes     closed
reopened              void                operator                           yes     closed
reported              rehome              system                             yes     same
registered            rehome              system                             yes     same
dispatched            rehome              system                             yes     same
accepted              rehome              system                             yes     same
on_site               rehome              system                             yes     same
extension_requested   rehome              system                             yes     same
parked                rehome              system                             yes     same
resolved              rehome              system                             yes     same
verified              rehome              system                             yes     same
rework                rehome              system                             yes     same
returned              rehome              system                             yes     same
reopened              rehome              system                             yes     same
"""


@dataclass(frozen=True)
class Cell:
    roles: frozenset[Role]
    reason: bool
    to: str  # a CaseState value, "same" or "previous"


def _parse(text: str) -> dict[tuple[CaseState, Action], Cell]:
    spec: dict[tuple[CaseState, Action], Cell] = {}
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        state, action, *rest = line.split()
        *roles, reason, to = rest
        key = (CaseState(state), Action(action))
        assert key not in spec, key
        spec[key] = Cell(frozenset(Role(r) for r in roles), reason == "yes", to)
    return spec


SPEC = _parse(SPEC_TEXT)
