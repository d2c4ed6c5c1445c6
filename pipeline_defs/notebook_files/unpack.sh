# Sourced by the notebook scheduler (SM_INIT_SCRIPT) in the notebook's folder, the job's input channel
# (SM_EXECUTION_INPUT_PATH, the current directory), before papermill runs the notebook: unpack the files
# that ship next to the notebook (the notebook's folder, a content-hashed CDK directory asset: a zip that
# the training channel delivers as it is) into that folder, so the notebook finds them as in the repository.
# The archive's path is relative to the notebook's folder; Python's zipfile needs no unzip in the image.
"${PYTHON_EXECUTABLE:-python3}" -m zipfile -e "${PLATFORM_NOTEBOOK_FILES_ARCHIVE:?names the archive of the files next to the notebook}" .
