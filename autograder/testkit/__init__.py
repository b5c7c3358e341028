"""What hidden-test authors import: checks that raise a student-readable Mistake, and argument specs."""
