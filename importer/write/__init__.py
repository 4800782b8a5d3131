"""Stage 5, write: the results workbook (the user's sheet plus status columns, Summary and Errors)."""

from .workbook import default_output_path, write_results

__all__ = ["default_output_path", "write_results"]
