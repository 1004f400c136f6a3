"""Innosøk in the browser (Streamlit): a multipage app. Thin: every answer comes from search_app.api.

`streamlit run search_app/app.py` (or `innosok serve`). The pages live in search_app/views/ and share
search_app/ui.py; the index and the models are loaded once per server process (the cached `library()` in ui.py).

The folder is deliberately not called `pages/`: Streamlit treats a `pages/` folder beside the main script
as a legacy multipage app, and until st.navigation has run once in the server process, a first visit
straight to a sub-page (a shared link to an example) would run that page without this file.
"""

from __future__ import annotations

import streamlit as st

# The page registry. Order = order in the top navigation; hidden pages are reached by links.
# To add a page (the curation view, for one), append an st.Page to PAGES, e.g.
#     PAGES.append(st.Page("views/kurator.py", title="Kurator", icon=":material/edit_note:", url_path="kurator"))
# — paths are relative to this file, url_path must be unique, only the search page is default=True, and
# page files go in views/ (see above: not in a folder called pages/).
PAGES: list[st.Page] = [
    st.Page("views/sok.py", title="Søk", icon=":material/search:", url_path="sok", default=True),
    st.Page("views/oversikt.py", title="Oversikt", icon=":material/bar_chart:", url_path="oversikt"),
    st.Page("views/kurator.py", title="Kurering", icon=":material/edit_note:", url_path="kurator"),
    st.Page("views/eksempel.py", title="Eksempel", icon=":material/article:", url_path="eksempel",
            visibility="hidden"),
]

st.set_page_config(page_title="Innosøk – innovasjoner i kommunene", page_icon="🔎", layout="wide",
                   menu_items={"About": "Innosøk: søk i søknadene til KMDs innovasjonspris."})
st.navigation(PAGES, position="top").run()
