app_name = "records"
urlpatterns = []
