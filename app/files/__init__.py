"""Files in messages: uploads received as they stream (receive.py), the upload rule and who reads a
file (service.py), images' types, sizes and previews (images.py, worker.py), and their doors
(routes.py). Below chat: chat's messages carry attachments; files ask nothing of chat."""
