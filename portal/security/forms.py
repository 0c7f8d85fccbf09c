"""Forms for signing in and looking after one's own account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length

from portal.forms import strip_whitespace
from portal.security.passwords import MIN_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired("Enter your email address"),
            Length(max=320, message="Enter a shorter email address"),
        ],
    )
    password = PasswordField("Password", widget=GovPasswordInput(), validators=[InputRequired("Enter your password")])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class TwoFactorForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired("Enter the code from your authenticator app, or a recovery code"),
            Length(max=20, message="Enter the 6-digit code from your authenticator app, or a recovery code"),
        ],
        description="The 6-digit code, or one of your recovery codes if you do not have your phone.",
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class TwoFactorSetupForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired("Enter the 6-digit code from your authenticator app"),
            Length(max=10, message="Enter the 6-digit code from your authenticator app"),
        ],
    )
    submit = SubmitField("Turn on two-factor sign-in", widget=GovSubmitInput())


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False),
            Length(max=320, message="Enter a shorter email address"),
        ],
    )
    submit = SubmitField("Send reset link", widget=GovSubmitInput())


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description=f"At least {MIN_LENGTH} characters. A few unrelated words make a strong password.",
        validators=[
            InputRequired("Enter a new password"),
            Length(min=MIN_LENGTH, message=f"Password must be {MIN_LENGTH} characters or more"),
            Length(max=200, message="Password must be 200 characters or fewer"),
        ],
    )
    confirm = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Confirm your new password"), EqualTo("password", "Passwords must match")],
    )
    submit = SubmitField("Save password", widget=GovSubmitInput())


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        "Current password", widget=GovPasswordInput(), validators=[InputRequired("Enter your current password")]
    )


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change something."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())
