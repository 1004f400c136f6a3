"""Oversikt: the archive at a glance — examples per year, sector and county — and the whole archive as a table."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from search_app import ui
from search_app.api import Library, archive_counts, export_csv, export_excel

BLUE = "#0062ba"
STATUS_COLORS = ["#c99a06", "#6b7b8c", BLUE]  # Vinner, Finalist, Søker


@st.cache_data(show_spinner="Teller opp arkivet …")
def _archive(index_key: str, _lib: Library) -> pd.DataFrame:
    return _lib.archive_table()


def _per_year(per_year: pd.DataFrame) -> alt.Chart:
    """Stacked bars: examples per year, winners and finalists on top."""
    long = per_year.reset_index().melt(id_vars="År", var_name="Status", value_name="Eksempler")
    long["År"] = long["År"].astype(str)
    order = [s for s in ("Søker", "Finalist", "Vinner") if s in set(long["Status"])]
    colors = {"Vinner": STATUS_COLORS[0], "Finalist": STATUS_COLORS[1], "Søker": STATUS_COLORS[2]}
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("År:N", axis=alt.Axis(labelAngle=0, title=None)),
        y=alt.Y("sum(Eksempler):Q", title="Antall eksempler"),
        color=alt.Color("Status:N", sort=order, scale=alt.Scale(domain=order, range=[colors[s] for s in order]),
                        legend=alt.Legend(orient="bottom", title=None)),
        order=alt.Order("status_rank:Q"),
        tooltip=["År", "Status", "Eksempler"],
    ).transform_calculate(status_rank=f"indexof({order!r}, datum.Status)").properties(height=340)


def _bars(counts: pd.DataFrame, column: str, title: str) -> alt.Chart:
    """Horizontal bars, largest first, one labelled row per value."""
    data = counts.reset_index()
    return alt.Chart(data).mark_bar(color=BLUE).encode(
        y=alt.Y(f"{column}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260, labelOverlap=False)),
        x=alt.X("Eksempler:Q", title="Antall eksempler"),
        tooltip=[alt.Tooltip(f"{column}:N", title=title), "Eksempler"],
    ).properties(height=max(160, 24 * len(data)))


def _year_sector(table: pd.DataFrame) -> alt.Chart:
    """Examples per sector and year as a grid of shaded, numbered cells."""
    long = table.reset_index().melt(id_vars="År", var_name="Sektor", value_name="Eksempler")
    long["År"] = long["År"].astype(str)
    base = alt.Chart(long).encode(
        x=alt.X("År:N", axis=alt.Axis(labelAngle=0, title=None, orient="top")),
        y=alt.Y("Sektor:N", title=None, axis=alt.Axis(labelLimit=260, labelOverlap=False)),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("Eksempler:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=["Sektor", "År", "Eksempler"])
    numbers = base.mark_text(fontSize=12).encode(
        text="Eksempler:Q",
        color=alt.condition(alt.datum.Eksempler > long["Eksempler"].max() / 2, alt.value("white"), alt.value("#1e2b3c")))
    return (cells + numbers).properties(height=max(160, 24 * long["Sektor"].nunique()))


def main() -> None:
    lib = ui.get_library()
    ui.page_header(lib, "Oversikt over arkivet", "Alle søknadene til KMDs innovasjonspris i Innosøk, "
                   "fordelt på år, sektor og fylke.")
    table = _archive(str(lib.index_root), lib)
    if table.empty:
        st.warning("Søkeindeksen er tom. Legg inn søknader med: innosok ingest corpus/")
        return
    counts = archive_counts(table)
    a, b, c, d = st.columns(4)
    a.metric("Innovasjonseksempler", ui.number(len(table)))
    b.metric("Kommuner og fylkeskommuner", ui.number(table["Kommune (søker)"].nunique()))
    c.metric("År", f"{table['År'].min()}–{table['År'].max()}")
    d.metric("Vinnere og finalister", ui.number(int(table["Status"].isin(["Vinner", "Finalist"]).sum())))

    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("## Eksempler per år")
        st.altair_chart(_per_year(counts["per_year"]), width="stretch")
    with right:
        st.markdown("## Eksempler per fylke")
        st.altair_chart(_bars(counts["per_county"], "Fylke i dag", "Dagens fylke"), width="stretch")

    st.markdown("## Eksempler per sektor, og per sektor og år")
    if counts["per_sector"].empty:
        st.caption("Eksemplene har ingen sektormerkelapper ennå, så fordelingen på sektor kan ikke vises.")
    else:
        bars, grid = st.columns(2, gap="large")
        bars.altair_chart(_bars(counts["per_sector"], "Sektor", "Sektor"), width="stretch")
        grid.altair_chart(_year_sector(counts["year_sector"]), width="stretch")

    st.markdown("## Hele arkivet som tabell")
    st.dataframe(table.drop(columns=["Utdrag"]), hide_index=True, width="stretch", height=320,
                 column_config={"År": st.column_config.NumberColumn(format="%d")})
    csv_col, xlsx_col, _ = st.columns([1, 1, 3])
    csv_col.download_button("Last ned CSV", lambda: export_csv(table), file_name="innosok-arkiv.csv",
                            mime="text/csv", key="arkiv-csv", on_click="ignore", icon=":material/download:",
                            width="stretch")
    xlsx_col.download_button(
        "Last ned Excel", lambda: export_excel(table), file_name="innosok-arkiv.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="arkiv-xlsx",
        on_click="ignore", icon=":material/download:", width="stretch")


main()
