# rows
