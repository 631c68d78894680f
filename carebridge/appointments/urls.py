from django.urls import path

from carebridge.appointments import views

app_name = "scheduling"
urlpatterns = [
    # Patients, for themselves
    path("", views.mine, name="mine"),
    path("book/", views.book, name="book"),
    path("book/<uuid:slot_id>/", views.book_confirm, name="book_confirm"),
    # Reception, for a patient
    path("patients/<uuid:patient_id>/book/", views.book, name="book_for"),
    path("patients/<uuid:patient_id>/book/<uuid:slot_id>/", views.book_confirm, name="book_for_confirm"),
    path("patients/<uuid:patient_id>/invite/", views.invite, name="invite"),
    # One appointment: both
    path("<uuid:appointment_id>/change/", views.move, name="move"),
    path("<uuid:appointment_id>/change/<uuid:slot_id>/", views.move_confirm, name="move_confirm"),
    path("<uuid:appointment_id>/cancel/", views.cancel, name="cancel"),
    # The day's work
    path("day/", views.day, name="day"),
    path("<uuid:appointment_id>/check-in/", views.check_in, name="check_in"),
    path("<uuid:appointment_id>/did-not-attend/", views.no_show, name="no_show"),
    path("my-day/", views.my_day, name="my_day"),
    path("<uuid:appointment_id>/done/", views.complete, name="complete"),
    path("<uuid:appointment_id>/undo/", views.undo_outcome, name="undo_outcome"),
    path("to-close/", views.to_close, name="to_close"),
    path("<uuid:appointment_id>/close/", views.close_appointment, name="close_appointment"),
    # Facility managers
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/opening-hours/", views.opening_hours, name="opening_hours"),
    path("schedules/sessions/add/", views.session_add, name="session_add"),
    path("schedules/sessions/<uuid:session_id>/end/", views.session_end, name="session_end"),
    path("schedules/time-off/add/", views.exception_add, name="exception_add"),
]
