"""The SVG bar chart's geometry and its words: bars in proportion, a scale that reads, and a description
that says every figure for anyone who cannot see the bars."""

from carebridge.reports.charts import PALETTE, Series, bar_chart


def _chart(**changes):
    arguments = {
        "title": "Appointments per week",
        "x_label": "Week beginning",
        "y_label": "Appointments",
        "categories": ["16 Nov", "23 Nov"],
        "category_words": ["week beginning Monday 16 November 2026", "week beginning Monday 23 November 2026"],
        "series": [Series("Attended", (4, 2)), Series("Did not attend", (1, None), none_words="none recorded")],
    }
    return bar_chart(**{**arguments, **changes})


def test_bars_are_in_proportion_to_their_figures_on_a_scale_of_whole_steps():
    chart = _chart()
    # Four is the largest figure: the scale runs 0 to 4 in ones, and a bar of 4 reaches the top.
    assert [tick.label for tick in chart.ticks] == ["0", "1", "2", "3", "4"]
    heights = [bar.height for bar in chart.bars]
    assert heights == [200.0, 50.0, 100.0]  # 4, 1 and 2 of 4 over 200 units; no bar where there is no figure
    assert all(bar.y + bar.height == chart.plot_bottom for bar in chart.bars)
    assert [bar.colour for bar in chart.bars] == [PALETTE[0], PALETTE[1], PALETTE[0]]


def test_the_description_reads_out_every_figure():
    assert _chart().description == (
        "Appointments per week. week beginning Monday 16 November 2026: attended 4, did not attend 1; "
        "week beginning Monday 23 November 2026: attended 2, did not attend none recorded."
    )


def test_large_figures_get_round_steps_and_nothing_to_show_says_so():
    chart = _chart(series=[Series("Items", (37, 120))])
    assert [tick.label for tick in chart.ticks] == ["0", "50", "100", "150"]
    empty = _chart(categories=[], category_words=[], series=[Series("Items", ())])
    assert empty.empty and empty.bars == ()
    assert empty.description == "Appointments per week: nothing to show in this period."
