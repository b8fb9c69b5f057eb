"""What every property of a road-map file means: the descriptions of the JSON Schema.

Kept beside the model (:mod:`cvid.roadmap.model`) rather than in it, one entry per class
and property (JSON names), and filled into the schema by :func:`describe`. A property
whose model field has a description of its own keeps it. A test fails on any property
of the schema without a description, and on any entry here that names no property.
"""

from __future__ import annotations

from typing import Any

_ID = "Its identifier: lowercase letters, digits, '.', '_' and '-', unique in its list."
_TITLE = "A short human-readable title."
_SOURCE = (
    "Where this comes from: the treaty article, resolution or reference, or the design "
    "choice it is, so that a reader can check it."
)

_FOUND_BY = (
    "Whose finding confirms the allegations its condition reads (allegation_confirmed, "
    "custody_flagged): exactly one of verifiers, joint_body or council; absent: the road "
    "map's 'findings'."
)
_TRANSLATED = "In this language; not given: as written."

DESCRIPTIONS: dict[str, dict[str, str]] = {
    "RoadMap": {
        "cvid_roadmap": "The version of the road-map language this file is written in (1).",
        "agreement": "What is agreed, by whom, and the rules for the events that carry it out.",
        "parties": "Every state or body that signs events, with its roles and keys.",
        "council": "The Security Council's vote rule, members and presidency, when the "
        "road map has Council procedures.",
        "lifecycle": "The default lifecycle of inventory items, in order (forward only).",
        "inventory": "The categories and items the road map moves through their lifecycles.",
        "measures": "Sanctions measures, in force or suspended, that rewards and "
        "consequences act on.",
        "guarantees": "Security guarantees, given when enough guarantors sign them.",
        "phases": "The phases of the road map, in order, each a list of steps.",
        "rewards": "What the others give once a condition holds, in the order they fire.",
        "consequences": "What follows a failure once a condition holds, in the order they fire.",
        "snapback": "Re-imposition of measures on notice by an entitled party.",
        "escrow": "Declarations committed in escrow, and how inspections of them are judged.",
        "beacon": "Who contributes secrets to the inspection beacon, and how long they have "
        "to reveal.",
        "custody": "Chains of custody: how long a receiver has to acknowledge a hand-over.",
        "witnesses": "The witnesses that cosign the log's checkpoints, and how many make "
        "one final.",
        "withdrawal": "How a party leaves the agreement, and what happens to obligations "
        "owed to it.",
        "findings": "Who turns an allegation into a finding.",
        "permissions": "Event types granted to parties beyond their roles: event type to "
        "the parties that may submit it.",
        "joint_bodies": "Bodies of parties that decide together (a joint commission).",
        "limits": "Continuing bounds on measured quantities that a party must keep.",
        "obligations": "Recurring obligations, due again and again.",
        "inspection_types": "Types of inspection the inspecting parties may choose to carry out.",
        "quotas": "At least and/or at most so many inspections per period, per party.",
        "amendments": "How the road map itself is amended.",
        "include_phases": "Shipped phases included in this road map, with their parameters.",
        "monitoring": "Unattended monitoring: device kinds, devices, release arrangements "
        "for held records, and material balance areas.",
        "translations": "The road map's text in other languages, by ISO 639 language code "
        "(fr, ru, zh...): what the dashboard and the report show in that language. Text not "
        "translated is shown as written; ids, dates and rules are the same in every language.",
    },
    "Agreement": {
        "id": "The agreement's identifier; every event names it.",
        "title": "The agreement's full title.",
        "origin": "The log's origin line (the name of its checkpoints and log key), for "
        "instance 'example.org/treaty'.",
        "start": "The first day the road map counts from (a date).",
        "adopted_by": "The parties whose adoption events bring the road map into force.",
        "zone": "The IANA time zone in which the road map's dates are read (default UTC).",
        "clock_skew_seconds": "How far an event's time may be from its time of receipt, in "
        "seconds.",
        "max_body_bytes": "The largest event body admitted, in bytes of canonical JSON.",
        "early_steps": "What admission does with a step reported before it is open: "
        "'record' it, or 'refuse' it.",
        "storage_quota_bytes_per_day": "Bytes of events one party may log per day (no "
        "quota when absent).",
        "source": _SOURCE,
        "entry_into_force": "When the agreement enters into force, when that is not on adoption.",
        "duration": "How long the agreement lasts once in force (indefinitely when absent).",
        "extensions": "How the agreement's duration may be extended.",
        "termination": "Who may end the agreement before its time.",
        "after_end": "Steps and obligations that survive the end of the agreement.",
    },
    "Party": {
        "id": "The party's identifier; it names the party's keys and signs its events.",
        "name": "The party's full name.",
        "short_name": "A short name for tables and headlines (e.g. 'DPRK'); the full name "
        "when absent.",
        "roles": "What the party may do: its roles (disarming_state, guarantor, verifier, "
        "council members, ...).",
        "keys": "The party's Ed25519 verifier keys, 'name+keyid+base64' (name = the "
        "party's id); 'cvid agreement init' generates them when absent.",
    },
    "Council": {
        "size": "The number of Council members.",
        "affirmative_votes": "The affirmative votes a draft needs to be adopted.",
        "permanent_veto": "Whether a permanent member's 'no' defeats a draft.",
        "terms": "Elected members' seats over time.",
        "presidency": "Who presides the Council, from which day.",
        "source": _SOURCE,
    },
    "Term": {
        "party": "The elected member holding the seat.",
        "from": "The first day the seat is held (inclusive).",
        "until": "The last day the seat is held (inclusive); absent: still held.",
    },
    "Presidency": {
        "party": "The presiding member.",
        "from": "The day from which it presides (until the next entry's day).",
    },
    "Category": {
        "id": _ID,
        "title": _TITLE,
        "lifecycle": "The category's lifecycle states, in order (default: the road map's "
        "lifecycle).",
    },
    "Inventory": {
        "categories": "The kinds of items, each with its lifecycle.",
        "items": "The declared items.",
    },
    "Item": {
        "id": _ID,
        "title": _TITLE,
        "category": "The item's category.",
        "state": "The item's lifecycle state at the outset (default: its category's first).",
        "quantity": "How much of it there is, in 'unit'.",
        "unit": "The unit of 'quantity'.",
        "source": _SOURCE,
    },
    "Measure": {
        "id": _ID,
        "title": _TITLE,
        "source": _SOURCE,
        "initially": "Whether the measure is 'in_force' or 'suspended' at the outset.",
        "imposed_by": "Who imposes it: 'council' (a UN measure) or the imposing party.",
    },
    "Guarantee": {
        "id": _ID,
        "title": _TITLE,
        "text": "What the guarantors undertake, in words.",
        "guarantors": "The parties that may sign the guarantee.",
        "threshold": "How many guarantors' signatures give the guarantee.",
        "source": _SOURCE,
    },
    "Phase": {
        "id": _ID,
        "title": _TITLE,
        "steps": "The phase's steps.",
        "source": _SOURCE,
    },
    "PhaseInclude": {
        "phase": "The shipped phase to include, by name.",
        "with": "The values of the included phase's parameters.",
    },
    "Step": {
        "id": _ID,
        "title": _TITLE,
        "actor": "The party (or joint body) that must carry the step out.",
        "action": "What the actor must do, in words.",
        "items": "Lifecycle states that items or categories reach by this step.",
        "depends_on": "Steps or phases that must be verified (or waived) before this step opens.",
        "deadline": "When the step is due (none when absent).",
        "verification": "Who must confirm the step, and how many of them (none: reporting "
        "it completes it).",
        "reveals": "The escrowed cells that must be revealed for the step to be done.",
        "cica_measure": "The CICA confidence-building measure the step carries out.",
        "owed_to": "The party the step is owed to (its beneficiary).",
        "automatic": "Whether the step completes by itself at its deadline (a milestone).",
        "kind": "'obligation' (the default: the actor must do it) or 'right' (the actor may "
        "do it: never owed, never overdue, never a violation for not being done, and its "
        "phase is complete without it; no deadline, verification, owed_to or automatic).",
        "source": _SOURCE,
    },
    "Transition": {
        "item": "The item that changes state (or use 'category').",
        "category": "Every item of this category changes state (or use 'item').",
        "to": "The lifecycle state reached.",
    },
    "Verification": {
        "by": "The parties that may confirm.",
        "threshold": "How many of them must confirm.",
        "method": "How they verify, in words.",
        "by_observation": "Whether a verifier may confirm without the actor's report, by "
        "observing the items' states.",
    },
    "Deadline": {
        "date": "Due at the end of this day, in the agreement's time zone.",
        "after": "Due a number of days, months or years after this milestone.",
        "days": "Days after the milestone.",
        "months": "Calendar months after the milestone.",
        "years": "Calendar years after the milestone.",
        "earliest_of": "Due at the earliest of these deadlines.",
        "latest_of": "Due at the latest of these deadlines.",
    },
    "After": {"after": "The milestone: 'start', 'adoption', a step or a phase."},
    "ResolutionAnchor": {
        "resolution": "The Council resolution (draft id or purpose) whose adoption is the "
        "milestone."
    },
    "FirstEventAnchor": {"first": "The event type whose first admitted event is the milestone."},
    "Reached": {"milestone": "'adoption', a step or a phase whose completion ends it."},
    "Reward": {
        "id": _ID,
        "title": _TITLE,
        "when": "The condition on which the reward fires (once).",
        "suspend_measures": "Measures suspended when it fires.",
        "suspend_measures_of": "Imposers ('council' or parties) all of whose measures are "
        "suspended when it fires.",
        "bring_into_force": "Guarantees brought into force when it fires.",
        "aid": "Assistance given when it fires, in words.",
        "found_by": _FOUND_BY,
        "source": _SOURCE,
    },
    "FoundBy": {
        "verifiers": "A finding by k of n named verifiers, each signing finding.made.",
        "joint_body": "A finding by an adopted decision of this joint body (with 'find').",
        "council": "A finding by an adopted Council resolution that 'determines' it.",
        "source": _SOURCE,
    },
    "FinderVerifiers": {
        "by": "The verifiers whose findings count (none: the road map's 'findings').",
        "threshold": "How many of them must find the same.",
    },
    "Consequence": {
        "id": _ID,
        "title": _TITLE,
        "when": "The condition on which the consequence fires (once).",
        "reimpose_measures": "Measures re-imposed when it fires.",
        "reimpose_measures_of": "Imposers ('council' or parties) all of whose measures are "
        "re-imposed when it fires.",
        "suspend_guarantees": "Guarantees suspended when it fires.",
        "council_procedure": "The Council procedure it opens, in words.",
        "found_by": _FOUND_BY,
        "source": _SOURCE,
    },
    "Snapback": {
        "entitled": "The parties entitled to notify significant non-performance.",
        "window_days": "Days after a notification within which a continuation resolution "
        "must be adopted.",
        "zone": "The time zone in which the window's last day is read (default: the agreement's).",
        "measures": "The measures re-imposed when the window closes without a continuation.",
        "source": _SOURCE,
    },
    "Prior": {
        "kind": "'uniform': the number of falsified cells is uniform on 0..max_hidden; "
        "'binomial': each cell is falsified with probability q.",
        "max_hidden": "The largest number of falsified cells a uniform prior allows (capped "
        "at the number of cells).",
        "q": "The probability that a cell is falsified, for a binomial prior.",
    },
    "Declaration": {
        "id": _ID,
        "title": _TITLE,
        "by": "The party that commits the declaration in escrow.",
        "source": _SOURCE,
    },
    "Escrow": {
        "declarations": "The declarations the road map expects in escrow.",
        "quantity_tolerance": "The relative difference between a declared and a found "
        "quantity beyond which the declaration is violated.",
        "per_inspection": "The probability that inspecting a falsified cell finds it.",
        "prior": "The prior on the number of falsified cells, for the confidence in completeness.",
    },
    "Beacon": {
        "participants": "The parties that commit and reveal a secret in every round.",
        "reveal_days": "Days a participant has to reveal, after the round's last commitment.",
    },
    "Custody": {
        "receipt_days": "Days a receiver has to acknowledge a hand-over before the chain "
        "is flagged.",
    },
    "Witness": {
        "id": "The witness's identifier, which names its key.",
        "name": "Who operates the witness.",
        "key": "Its cosignature/v1 verifier key, 'name+keyid+base64'; 'cvid agreement "
        "init' generates one when absent.",
    },
    "Witnesses": {
        "threshold": "How many witnesses' cosignatures make a checkpoint final.",
        "members": "The witnesses.",
        "source": _SOURCE,
    },
    "Withdrawal": {
        "notice": "How long after its notification a withdrawal takes effect.",
        "owed_to_withdrawn": "Whether obligations owed to a withdrawn party 'lapse' or 'continue'.",
        "source": _SOURCE,
    },
    "Findings": {
        "by": "The parties that may make findings (default: any verifier).",
        "threshold": "How many of them must find.",
        "source": _SOURCE,
    },
    "JointBody": {
        "id": _ID,
        "title": _TITLE,
        "members": "The parties that make up the body.",
        "rule": "How it decides: by consensus, or by a number of its members.",
        "source": _SOURCE,
    },
    "Limit": {
        "id": _ID,
        "title": _TITLE,
        "party": "The party that must keep the limit.",
        "quantity": "The measured quantity, by name (declarations and measurements name it).",
        "item": "The item the quantity is of, when it is one item's.",
        "unit": "The unit of the bound (any unit pint knows, or cvid's counts).",
        "max": "The upper bound (inclusive).",
        "min": "The lower bound (inclusive).",
        "equal": "The value the quantity must equal.",
        "tolerance": "How far beyond the bound a value may be before it is exceeded, in 'unit'.",
        "from": "When the limit takes effect (at once when absent).",
        "until": "When the limit ends (with the agreement when absent).",
        "measure_every_days": "Days within which a new measurement is due (none when absent).",
        "verifiers": "The parties whose measurements count.",
        "source": _SOURCE,
    },
    "Obligation": {
        "id": _ID,
        "title": _TITLE,
        "party": "The party that owes it (or use 'for_each').",
        "for_each": "Every listed party owes it (a list of parties, or every holder of a role).",
        "owed_to": "The parties it is owed to.",
        "action": "What is owed each time, in words.",
        "every": "The recurrence period (or use 'on_dates').",
        "on_dates": "The days of the year it is due, as 'MM-DD' (or use 'every').",
        "from": "When the recurrence starts: a date or a milestone (default: adoption).",
        "until": "When it ends: a date or a milestone (with the agreement when absent).",
        "grace_days": "Days after each due date before an occurrence is missed.",
        "verification": "Who confirms each occurrence, and how many of them.",
        "source": _SOURCE,
    },
    "Every": {
        "days": "Every so many days.",
        "months": "Every so many calendar months.",
        "years": "Every so many calendar years.",
    },
    "Duration": {
        "days": "Days.",
        "months": "Calendar months.",
        "years": "Calendar years.",
    },
    "ForEachRole": {"role": "The role whose every holder owes the obligation."},
    "InspectionType": {
        "id": _ID,
        "title": _TITLE,
        "by": "The parties that may carry out this type of inspection.",
        "of": "The parties that may be inspected (any other party when empty).",
        "source": _SOURCE,
    },
    "Quota": {
        "id": _ID,
        "title": _TITLE,
        "party": "The party whose inspections are counted.",
        "counts": "'conducted': inspections it carries out; 'received': inspections of it.",
        "types": "The inspection types counted (all when empty).",
        "at_least": "The fewest inspections per period.",
        "at_most": "The most inspections per period.",
        "period": "The counting period (default: the calendar year).",
        "source": _SOURCE,
    },
    "Period": {
        "months": "The period's length in months.",
        "from": "The date the first period starts (default: 1 January of the start year).",
    },
    "EntryIntoForce": {
        "date": "In force at the start of this day, once every adopting party has adopted.",
        "ratifications": "In force when these ratifications are deposited.",
    },
    "Ratifications": {
        "by": "The parties whose ratifications count.",
        "at_least": "How many ratifications are needed (all of 'by' when absent).",
    },
    "Extensions": {
        "max": "The most extensions allowed.",
        "length": "How long each extension is.",
        "by": "The parties that must sign an extension (default: the adopting parties).",
        "source": _SOURCE,
    },
    "Termination": {
        "by": "The parties that may sign a termination (default: the adopting parties).",
        "at_least": "How many signatures end the agreement (all of 'by' when absent).",
        "source": _SOURCE,
    },
    "Amendments": {
        "consent": "The consents that adopt a proposed version: 'all', or at least so many.",
        "by": "The parties that may propose and consent (default: the adopting parties).",
        "source": _SOURCE,
    },
    "AmendmentQuorum": {"at_least": "The number of consents needed."},
    "AtLeast": {"at_least": "The number of the body's members whose signatures decide."},
    "CellsSpec": {
        "declaration": "The declaration in escrow.",
        "cells": "The cells (all of them when empty).",
    },
    "ConfidenceSpec": {
        "declaration": "The declaration in escrow.",
        "at_least": "The confidence in completeness to reach, between 0 and 1.",
    },
    "OverdueSpec": {
        "step": "The step.",
        "grace_days": "Days of grace after its deadline.",
    },
    "MissedSpec": {
        "obligation": "The recurring obligation (its id, '<id>.<party>', or 'any').",
        "party": "For an obligation owed by each of several parties: whose occurrence counts.",
    },
    # Conditions: a one-key mapping, the key the test and its value the argument.
    "All": {"all": "Conditions that must all be true."},
    "AnyOf": {"any": "Conditions at least one of which must be true."},
    "Not": {"not": "A condition that must be false."},
    "Verified": {"verified": "A step (or phase: every step of it) verified or waived."},
    "Reported": {"reported": "A step reported by its actor (or verified)."},
    "Overdue": {"overdue": "A step past its deadline (and days of grace) and not done."},
    "Violated": {"violated": "A step whose verification failed, or a refused obligation."},
    "IrreversibilityViolated": {
        "irreversibility_violated": "An item (or category) observed in an earlier "
        "lifecycle state than it had reached."
    },
    "GuaranteeInForce": {"guarantee_in_force": "A guarantee given and in force."},
    "ResolutionAdopted": {
        "resolution_adopted": "A Council draft (id or purpose) adopted by the vote rule."
    },
    "DateAfter": {"date_after": "True from the end of this day, in the agreement's zone."},
    "Adopted": {"adopted": "The road map adopted and in force (true) or not (false)."},
    "SnapbackCompleted": {
        "snapback_completed": "A snapback window closed with the measures re-imposed (true)."
    },
    "CellsRevealed": {"cells_revealed": "The declaration and cells revealed completely."},
    "Confidence": {"confidence": "The declaration and the confidence in its completeness."},
    "DeclarationViolated": {
        "declaration_violated": "A declaration an inspection found false (undeclared items, "
        "quantities beyond tolerance)."
    },
    "BeaconMissed": {"beacon_missed": "A party that failed to reveal its beacon secret in time."},
    "CustodyFlagged": {
        "custody_flagged": "An item whose chain of custody is flagged (a missing receipt, a "
        "double hand-over)."
    },
    "AllegationConfirmed": {
        "allegation_confirmed": "A party found at fault by a confirmed allegation."
    },
    "PartyWithdrawn": {"party_withdrawn": "A party whose withdrawal has taken effect."},
    "LimitExceeded": {"limit_exceeded": "A limit currently beyond its bound."},
    "LimitViolated": {"limit_violated": "A limit that has been beyond its bound at any time."},
    "ObligationMissed": {"obligation_missed": "An occurrence of a recurring obligation missed."},
    "QuotaShort": {"quota_short": "A quota whose last completed period fell short."},
    "ContinuityLost": {
        "continuity_lost": "An item or facility (or 'any') whose continuity of knowledge is "
        "lost, or an object with the item and the days of grace."
    },
    "ContinuitySpec": {
        "item": "The covered item or facility, or 'any' for any of them.",
        "grace_days": "Days continuity must have been lost before the condition holds.",
    },
    "BalanceFlagged": {
        "muf_flagged": "A material balance area (or 'any') whose MUF was flagged beyond "
        "its threshold."
    },
    "Monitoring": {
        "kinds": "Device kinds beyond the built-in camera, seal, online_monitor and flowmeter.",
        "devices": "The monitoring devices and what their gaps mean.",
        "releases": "Arrangements by which held device records must be released by a date.",
        "balance_areas": "Material balance areas, where MUF is computed and judged.",
    },
    "Device": {
        "id": _ID,
        "kind": "Its kind: a built-in kind or one named in 'monitoring.kinds'.",
        "key": "The key that authenticates its data (the device's own, or its "
        "operator's); left out in a template, generated when the agreement is created.",
        "covers": "The inventory items or facilities it covers.",
        "interval_minutes": "How often it reports, in minutes.",
        "at_risk_after_minutes": "A gap longer than this (minutes) puts continuity of "
        "knowledge at risk.",
        "lost_after_minutes": "A gap longer than this (minutes) loses continuity of knowledge.",
        "host": "The party on whose territory it is installed.",
        "verifiers": "The verifiers that install, service and re-verify it.",
        "operator": "The party that logs its data; the host when absent.",
        "source": _SOURCE,
    },
    "Release": {
        "id": _ID,
        "title": _TITLE,
        "devices": "The devices whose held records the arrangement covers.",
        "records_from": "The first day of the records to release (open when absent).",
        "records_until": "The last day of the records to release (open when absent).",
        "by": "The day by whose end the records must be released.",
        "source": _SOURCE,
    },
    "BalanceArea": {
        "id": _ID,
        "title": _TITLE,
        "host": "The party that reports the area's balances.",
        "verifiers": "The verifiers whose verified balance replaces the host's declaration.",
        "unit": "The unit of the balance's quantities (e.g. kg).",
        "threshold_sigma": "MUF is flagged when its absolute value exceeds this many sigma(MUF).",
        "threshold": "MUF is flagged beyond this quantity (in 'unit') when no sigma is known.",
        "items": "The inventory items or facilities in the area.",
        "source": _SOURCE,
    },
    "Translation": {
        "agreement": "The agreement's title.",
        "parties": "Parties' names and short names, by party id.",
        "phases": "Phases' titles and sources, by phase id.",
        "steps": "Steps' titles, actions, verification methods and sources, by step id.",
        "measures": "Sanctions measures' titles and sources, by measure id.",
        "guarantees": "Security guarantees' titles, texts and sources, by guarantee id.",
        "rewards": "Rewards' titles and sources, by reward id.",
        "consequences": "Consequences' titles, Council procedures and sources, by consequence id.",
        "limits": "Limits' titles and sources, by limit id.",
        "obligations": "Recurring obligations' titles, actions and sources, by obligation id "
        "(as written, before 'for_each' makes one per party).",
        "declarations": "Declarations' titles and sources, by declaration id (escrow).",
        "items": "Inventory items' titles and sources, by item id.",
        "balance_areas": "Material balance areas' titles, by area id (monitoring).",
        "states": "The words for lifecycle states (at most 40 characters), by state: what "
        "a step moves items to.",
    },
    "AgreementText": {"title": "The agreement's full title. " + _TRANSLATED},
    "PartyText": {
        "name": "The party's full name. " + _TRANSLATED,
        "short_name": "The party's short name (at most 40 characters). " + _TRANSLATED,
    },
    "PhaseText": {
        "title": "The phase's title. " + _TRANSLATED,
        "source": "The phase's source. " + _TRANSLATED,
    },
    "StepText": {
        "title": "The step's title. " + _TRANSLATED,
        "action": "What the actor must do. " + _TRANSLATED,
        "method": "How the verifiers confirm it (the step's verification method). " + _TRANSLATED,
        "source": "The step's source. " + _TRANSLATED,
    },
    "MeasureText": {
        "title": "The measure's title. " + _TRANSLATED,
        "source": "The measure's source. " + _TRANSLATED,
    },
    "GuaranteeText": {
        "title": "The guarantee's title. " + _TRANSLATED,
        "text": "The guarantee's text. " + _TRANSLATED,
        "source": "The guarantee's source. " + _TRANSLATED,
    },
    "RewardText": {
        "title": "The reward's title. " + _TRANSLATED,
        "aid": "The reward's aid, item by item in the road map's order. " + _TRANSLATED,
        "source": "The reward's source. " + _TRANSLATED,
    },
    "ConsequenceText": {
        "title": "The consequence's title. " + _TRANSLATED,
        "council_procedure": "What the Council does when it fires. " + _TRANSLATED,
        "source": "The consequence's source. " + _TRANSLATED,
    },
    "LimitText": {
        "title": "The limit's title. " + _TRANSLATED,
        "source": "The limit's source. " + _TRANSLATED,
    },
    "ObligationText": {
        "title": "The obligation's title. " + _TRANSLATED,
        "action": "What the party must do each time. " + _TRANSLATED,
        "source": "The obligation's source. " + _TRANSLATED,
    },
    "DeclarationText": {
        "title": "The declaration's title. " + _TRANSLATED,
        "source": "The declaration's source. " + _TRANSLATED,
    },
    "ItemText": {
        "title": "The item's title. " + _TRANSLATED,
        "source": "The item's source. " + _TRANSLATED,
    },
    "BalanceAreaText": {"title": "The area's title. " + _TRANSLATED},
}


def describe(schema: dict[str, Any]) -> dict[str, Any]:
    """Fill the description of every property that has none, from :data:`DESCRIPTIONS`.

    The road map itself is ``RoadMap``; its classes are the schema's ``$defs``. Returns
    ``schema``, changed in place.
    """
    nodes = [("RoadMap", schema), *schema.get("$defs", {}).items()]
    for name, node in nodes:
        known = DESCRIPTIONS.get(name, {})
        for prop, value in node.get("properties", {}).items():
            if not value.get("description") and prop in known:
                value["description"] = known[prop]
    return schema
