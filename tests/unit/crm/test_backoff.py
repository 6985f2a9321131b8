import pytest

from crm.backoff import Backoff


def test_the_steps_double_from_the_base_up_to_the_cap() -> None:
    backoff = Backoff(base=10, cap=600)
    assert [backoff.step(n) for n in range(1, 10)] == [10, 20, 40, 80, 160, 320, 600, 600, 600]
    assert backoff.step(10_000) == 600  # no overflow however long the CRM is down


@pytest.mark.parametrize("failures", [1, 3, 7, 50])
def test_the_jitter_stays_between_half_the_step_and_the_step(failures: int) -> None:
    backoff = Backoff(base=10, cap=600)
    step = backoff.step(failures)
    assert backoff.delay(failures, lambda: 0.0) == step / 2
    assert backoff.delay(failures, lambda: 0.999999) == pytest.approx(step, rel=1e-5)
    assert step / 2 <= backoff.delay(failures) <= step


def test_an_hour_down_costs_about_a_dozen_attempts() -> None:
    backoff = Backoff(base=10, cap=600)
    waited, attempts = 0.0, 0
    while waited < 3600:
        attempts += 1
        waited += backoff.delay(attempts, lambda: 1.0)
    assert 8 <= attempts <= 20
