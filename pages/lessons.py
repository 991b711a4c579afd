"""Lessons: guided walks through the app for a class, one step at a time (lessons are files in
assets/lessons/)."""

import streamlit as st

from mmviz.ui import lessons_sections as sections
from mmviz.ui.shell import page_setup

page_setup()

st.title("Lessons")
st.markdown(
    "Guided lessons for a class, about twenty minutes each, on the reference runs that ship with mmviz "
    "(no training needed). Each step says what to look at, opens the page it is about in the right state, "
    "and asks one question; reveal the answer when the class has had a go. Your place is in the URL: "
    "share the link to resume."
)

lessons, problems = sections.available_lessons()
sections.show_problems(problems)
if not lessons:
    st.info("No lessons to show: add a lesson file to assets/lessons/ (see the README's *Lessons* section).")
    st.stop()

URL = sections.url_spec(lessons)
lesson, index = sections.seed_progress(URL, lessons)
sections.lesson_menu(lessons, lesson)
sections.step_section(lesson, index)
sections.page_style()  # after the step: a style element would add a gap where it stands
sections.preload_view(lesson, index)
sections.write_progress(URL)
