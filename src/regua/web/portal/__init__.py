"""The debtor portal: the pages a customer opens from the link in a message (`routes`)."""
