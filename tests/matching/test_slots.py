"""The slot flow (matching/slots.py): chains of moves, shared units held to their slots, and its
optimum against HiGHS's where every unit is unshared (then the slots lose nothing)."""

from __future__ import annotations

import time

import msgspec
import numpy as np
import pytest

from matching import exact
from matching.slots import best_in_slots
from matching.solver import BatchSolver
from matching.types import Child, Needs
from matching.validator import validate
from matching_factories import as_placement, pairs_of, problem, request, unit, woman

WHEELCHAIR = frozenset({"wheelchair"})


def slot_flow(solver: BatchSolver, start: dict[str, str]) -> dict[str, str]:
    every = np.arange(len(solver.cands))
    found = best_in_slots(solver._exact_batch(), every, pairs_of(solver, start))
    assert validate(solver.problem, solver._matches(found)) == []
    return as_placement(solver, found)


def test_a_chain_of_two_moves_frees_the_cheaper_unit():
    # r1 needs a wheelchair: only a (2,500 a day) and b (2,000) have one, and r2 holds b. r2 is as
    # well off in c (also 2,000). Neither move pays alone (r1 cannot enter b while r2 is there;
    # r2 gains nothing by leaving); the flow makes both at once
    p = problem([request("r1", household=woman(needs=Needs(wheelchair=True))), request("r2")],
                [unit("a", features=WHEELCHAIR, daily_rate=2500), unit("b", features=WHEELCHAIR, daily_rate=2000),
                 unit("c", daily_rate=2000)])
    assert slot_flow(BatchSolver(p), {"r1": "a", "r2": "b"}) == {"r1": "b", "r2": "c"}


def test_a_shared_units_free_beds_are_one_slot_and_its_households_keep_their_sizes():
    # shared unit s (4 beds) holds mother + child (2 beds) and has 2 free. Two single women sit in
    # dearer flats: one fits the free slot. The mother's slot holds at most 2, so the second single
    # could only take it if the mother left, and the mother has nowhere else: one single moves in
    mother = woman(children=(Child(5, "female"),))
    p = problem([request("mother", household=mother), request("w1"), request("w2")],
                [unit("s", beds=4, shared=True, daily_rate=1000), unit("f1", beds=1, daily_rate=3000),
                 unit("f2", beds=1, daily_rate=3000)])
    got = slot_flow(BatchSolver(p), {"mother": "s", "w1": "f1", "w2": "f2"})
    assert got["mother"] == "s"
    assert sorted(got.values()) == ["f1", "s", "s"] or sorted(got.values()) == ["f2", "s", "s"]


def test_a_household_larger_than_the_free_beds_stays_out():
    # 3 beds, a woman holds 1: the free slot has 2 beds, too few for the mother with two children
    mother = woman(children=(Child(4, "female"), Child(7, "male")))
    p = problem([request("w"), request("mother", household=mother)],
                [unit("s", beds=3, shared=True, daily_rate=1000), unit("flat", beds=3, daily_rate=3000)])
    assert slot_flow(BatchSolver(p), {"w": "s", "mother": "flat"}) == {"w": "s", "mother": "flat"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_without_shared_units_the_flow_is_the_optimum_placing_the_same_households(generated, seed):
    """Every unit unshared: a slot is a unit, so the flow from the arrival-order greedy solution is
    the best solution placing the same households. HiGHS (exact.best_assignment over those
    households' pairs, each placed) finds the same weight; the flow never weighs less than its start
    and places exactly its households."""
    p = generated(60, 400, seed=seed)
    p = msgspec.structs.replace(p, units=tuple(msgspec.structs.replace(u, shared=False) for u in p.units))
    s = BatchSolver(p)
    c, batch = s.cands, s._exact_batch()
    start = np.array(sorted(s._greedy_arrival()), dtype=np.int64)
    found = best_in_slots(batch, np.arange(len(c)), start)
    assert validate(p, s._matches(found)) == []
    assert sorted(c.req[found]) == sorted(c.req[start])
    placed = np.isin(c.req, c.req[start])
    mip = exact.best_assignment(batch, np.flatnonzero(placed), time.perf_counter() + 30, all_placeable=True)
    assert int(c.weight[found].sum()) == int(c.weight[mip].sum()) >= int(c.weight[start].sum())


@pytest.mark.parametrize("seed", [4, 5])
def test_with_shared_units_the_flow_is_a_solution_at_least_as_good_as_its_start(generated, seed):
    p = generated(60, 400, seed=seed)
    s = BatchSolver(p)
    c = s.cands
    start = np.array(sorted(s._greedy_arrival()), dtype=np.int64)
    found = best_in_slots(s._exact_batch(), np.arange(len(c)), start)
    assert validate(p, s._matches(found)) == []
    assert sorted(c.req[found]) == sorted(c.req[start])
    assert int(c.weight[found].sum()) >= int(c.weight[start].sum())
