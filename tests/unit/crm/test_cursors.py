from crm.cursors import GAP_SECONDS, Cursor


def test_the_cursor_moves_to_the_last_id_read() -> None:
    cursor = Cursor("x", 10)
    cursor.advance([11, 12, 13], now=0)
    assert (cursor.position, cursor.gaps) == (13, {})


def test_an_id_skipped_is_a_gap_read_again_until_it_appears() -> None:
    cursor = Cursor("x", 10)
    cursor.advance([11, 13], now=100)  # 12 took its id first and commits later
    assert cursor.position == 13
    assert cursor.gaps == {12: 100}
    cursor.advance([], now=150)
    assert cursor.gaps == {12: 100}
    cursor.advance([12, 14], now=160)
    assert (cursor.position, cursor.gaps) == (14, {})


def test_a_gap_that_never_fills_is_forgotten() -> None:
    cursor = Cursor("x", 0)
    cursor.advance([2], now=0)
    assert cursor.gaps == {1: 0}
    cursor.advance([], now=GAP_SECONDS + 1)  # a rolled-back insert
    assert cursor.gaps == {}


def test_nothing_new_keeps_the_position() -> None:
    cursor = Cursor("x", 5)
    cursor.advance([], now=0)
    assert (cursor.position, cursor.gaps) == (5, {})
